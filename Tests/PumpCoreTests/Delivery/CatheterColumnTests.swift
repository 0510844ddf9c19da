import Testing
@testable import PumpCore

@Suite("Delivery: catheter column")
struct CatheterColumnTests {
    @Test("an unprimed column delivers no drug until its volume has been pushed through")
    func unprimed() {
        var col = CatheterColumn(capacity: nl(1_000), filledWith: .none)
        // Three pushes of 300 nL: all saline out of the tip.
        for _ in 0..<3 { #expect(col.push(nl(300), at: c500) == 0) }
        // Fourth: 100 nL of saline then 200 nL of drug at 500 μg/mL = 200 × 500 = 100,000 pg.
        #expect(col.push(nl(300), at: c500) == 100_000)
        #expect(col.isUniform(c500))
        #expect(col.push(nl(300), at: c500) == 150_000)
    }

    @Test("FIFO bridge: the old concentration leaves the tip for exactly the dead volume")
    func bridge() {
        var col = CatheterColumn(capacity: nl(Bench.deadNL), filledWith: c500)
        #expect(col.tipConcentration == c500)
        // 1,344 strokes of 250 nL at 1000 μg/mL each deliver 250 × 500 = 125,000 pg of the old drug.
        var total: Int64 = 0
        for i in 0..<Bench.primingStrokes {
            let pg = col.push(nl(250), at: c1000)
            if pg != 125_000 { Issue.record("stroke \(i + 1) delivered \(pg) pg"); break }
            total += pg
        }
        // 336,000 nL × 500 = 168,000,000 pg = 168 μg of the old drug over the bridge.
        #expect(total == 168_000_000)
        #expect(col.isUniform(c1000))
        // The next stroke is all new drug: 250 × 1000 = 250,000 pg.
        #expect(col.push(nl(250), at: c1000) == 250_000)
        #expect(col.segments.map(\.volume).reduce(.zero, +) == nl(Bench.deadNL))
    }

    @Test("a stroke straddling the boundary delivers both concentrations")
    func straddle() {
        var col = CatheterColumn(capacity: nl(1_000), filledWith: c500)
        for _ in 0..<3 { #expect(col.push(nl(300), at: c2000) == 300 * 500) }
        // 100 nL at 500 + 200 nL at 2000 = 50,000 + 400,000 = 450,000 pg.
        #expect(col.picogramsDelivered(pushing: nl(300), at: c2000) == 450_000)
        #expect(col.push(nl(300), at: c2000) == 450_000)
        // Segments always add up to the capacity.
        #expect(col.segments.map(\.volume).reduce(.zero, +) == nl(1_000))
    }

    @Test("three concentrations in the column leave in order")
    func threeSegments() {
        var col = CatheterColumn(capacity: nl(1_000), filledWith: c500)
        col.push(nl(400), at: c1000)   // column: 600 @500, 400 @1000
        col.push(nl(400), at: c2000)   // column: 200 @500, 400 @1000, 400 @2000
        #expect(col.segments.map(\.concentration) == [c500, c1000, c2000])
        // Next 700 nL out: 200 @500 + 400 @1000 + 100 @2000 = 100,000 + 400,000 + 200,000 pg.
        #expect(col.push(nl(700), at: c2000) == 700_000)
        #expect(col.isUniform(c2000))
    }

    @Test("zero-capacity column passes the entering concentration through")
    func zeroCapacity() {
        var col = CatheterColumn(capacity: .zero, filledWith: c500)
        #expect(col.segments.isEmpty && col.tipConcentration == nil)
        #expect(col.push(nl(250), at: c1000) == 250_000)
    }

    @Test("strokes(deliveringAtMost:) is the largest count not exceeding the target")
    func strokesForTarget() {
        // Uniform 50 μg/mL, 250 nL strokes of 12,500 pg: 50 μg = 5 × 10⁷ pg = 4,000 strokes exactly.
        let col = CatheterColumn(capacity: nl(Bench.deadNL), filledWith: c50)
        let a = col.strokes(deliveringAtMost: 50_000_000, strokeVolume: nl(250), entering: c50)
        #expect(a.strokes == 4_000 && a.picograms == 50_000_000)
        // One picogram less: 3,999 strokes.
        let b = col.strokes(deliveringAtMost: 49_999_999, strokeVolume: nl(250), entering: c50)
        #expect(b.strokes == 3_999 && b.picograms == 49_987_500)
        // Mixed column: 1,000 nL of saline ahead of 500 μg/mL drug. 4 strokes of saline (0 pg), then
        // 125,000 pg per stroke: 1 μg = 1,000,000 pg → 8 drug strokes → 12 strokes, 1,000,000 pg.
        let unprimed = CatheterColumn(capacity: nl(1_000), filledWith: .none)
        let c = unprimed.strokes(deliveringAtMost: 1_000_000, strokeVolume: nl(250), entering: c500)
        #expect(c.strokes == 12 && c.picograms == 1_000_000)
    }
}

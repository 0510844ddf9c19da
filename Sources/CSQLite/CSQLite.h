// The system's SQLite 3 (Debian: libsqlite3-dev), plus the two macros Swift cannot import.
#include <sqlite3.h>

/// SQLITE_TRANSIENT: SQLite copies the bound bytes before the call returns.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }

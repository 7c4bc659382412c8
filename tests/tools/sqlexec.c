/*
 * sqlexec DB SQL: runs SQL on the SQLite file DB, as an attacker with the
 * sqlite3 tool would, for the integration tests that tamper with a store
 * behind warden's back (the sqlite3 shell need not be installed). Prints
 * SQLite's message and exits 1 on failure.
 */
#include <stdio.h>

#include <sqlite3.h>

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    if (argc != 3) {
        fputs("usage: sqlexec DB SQL\n", stderr);
        return 2;
    }
    int rc = sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, argv[2], NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sqlexec: %s\n", db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : 1;
}

"""Team mode: the shared PostgreSQL server (shared/team.md). GUI-free; psycopg and keyring are
dependencies, imported only by the modules that talk to the server (a local-only panel never loads them)."""

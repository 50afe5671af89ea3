"""Team mode: the shared PostgreSQL server (shared/team.md). GUI-free; psycopg is an optional extra
(`pip install kefu-assistant[team]`), imported only by the modules that talk to the server."""

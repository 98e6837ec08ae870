"""Database: which PostgreSQL is the warehouse and connections to it (`warehouse`; `connection` for
ConnectionInfo, `embedded` for the pgserver-based server), reader roles (`roles`), the raw/ops DDL
(`schema/*.sql`, the only copy, run by `ddl`), and cross-process file locks (`locks`)."""

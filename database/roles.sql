-- The tracking database's role: it owns one schema of its own and nothing else.
--
-- Run once, as a PostgreSQL administrator, connected to the (dedicated) tracking database:
--     createdb tracking
--     psql -d tracking -v ON_ERROR_STOP=1 -f database/roles.sql
--     psql -d tracking -c '\password content_scaling'      -- prompts; never put it in a file
-- then the block's DSN is postgresql://content_scaling:<password>@<host>:5432/tracking?sslmode=verify-full
-- Safe to run again.
--
-- What the application does with this role (clients/tracking_db.py), and so all it is granted:
--   * applies database/migrations/*.sql on first use (in file-name order, under an advisory lock),
--     plus its own schema_migrations table: CREATE TABLE / CREATE INDEX / ALTER in its own schema,
--     which it owns;
--   * SELECT / INSERT / UPDATE / DELETE on those tables (it owns them);
--   * pg_advisory_xact_lock / pg_try_advisory_lock and hashtext(), which need no privilege.
-- Not needed, so not granted: SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS, extensions,
-- temporary tables, the public schema or any other schema.
-- The contract for every migration: it creates or changes objects only in the role's own schema
-- (unqualified names; the search_path below puts them there). A migration that needs more (an
-- extension, another schema, another role) must say so here and in its own header.
--
-- A database whose tables an earlier install created in "public": move them once, as an
-- administrator, before the application next starts (ALTER TABLE public.<t> SET SCHEMA content_scaling;
-- ALTER TABLE content_scaling.<t> OWNER TO content_scaling; for every table of the migrations and
-- schema_migrations).

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'content_scaling') THEN
        CREATE ROLE content_scaling LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    END IF;
END
$$;

-- Only the application (and administrators) connect to this database; no one creates objects in
-- "public" (PostgreSQL 15+ already revokes that; older versions still grant it to everyone).
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO content_scaling', current_database());
    EXECUTE format('ALTER ROLE content_scaling IN DATABASE %I SET search_path = content_scaling',
                   current_database());
END
$$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA IF NOT EXISTS content_scaling AUTHORIZATION content_scaling;

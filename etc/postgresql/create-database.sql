-- The role and database fcgi-oauth uses on a shared PostgreSQL server.
-- Run once, as a superuser, on the primary:
--
--   sudo -u postgres psql -v password="'...'" -f create-database.sql
--
-- then, from any machine that will serve, create the schema:
--
--   oauthctl --db 'postgresql://oauth@db.example.org/oauth?sslmode=verify-full&passfile=/etc/oauth-fcgi/pgpass' init
--
-- The role owns its database and nothing else: it needs to create its
-- tables once (oauthctl init, and init again after an upgrade migrates
-- them) and to read and write them.  Without -v password the role gets
-- no password, for peer or certificate authentication.

\if :{?password}
CREATE ROLE oauth LOGIN PASSWORD :password;
\else
CREATE ROLE oauth LOGIN;
\endif
CREATE DATABASE oauth OWNER oauth ENCODING 'UTF8' TEMPLATE template0;
-- Nobody else may connect; the owner still can.
REVOKE ALL ON DATABASE oauth FROM PUBLIC;
\connect oauth
-- PostgreSQL 15 lets only the database owner create in schema public;
-- older servers let everyone: say it either way.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO oauth;

-- The research group role: SELECT on the research space (schema omop) and nothing else.
-- docs/deployment.md, "PostgreSQL: the spaces as schemas, and the roles"; tested against a real
-- server by tests/platform/test_pg_roles.py.
--
-- Run it as a PostgreSQL superuser (or a role with CREATEROLE that may grant on the database),
-- connected to Hopia's database, once `hopia init` has created the schemas:
--
--   psql -v database=hopia -v owner=hopia -v research=hopia_research \
--        -f deploy/postgres/research-role.sql hopia
--
-- database: Hopia's database; owner: the role Hopia's processes connect with (it owns the
-- database and the four schemas); research: the group role to create (NOLOGIN). Then give each
-- researcher a login role in the group:
--
--   CREATE ROLE dupont LOGIN IN ROLE hopia_research;
--
-- Running it again changes nothing. hopia_id, hopia_vault and hopia_meta get no grant: PostgreSQL
-- gives no other role any right on the schemas Hopia creates.
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I NOLOGIN', :'research')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'research') \gexec

-- nobody else connects unless granted
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"research";

GRANT USAGE ON SCHEMA omop TO :"research";
GRANT SELECT ON ALL TABLES IN SCHEMA omop TO :"research";
-- tables that later migrations create in omop (as the owner): readable too
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA omop GRANT SELECT ON TABLES TO :"research";

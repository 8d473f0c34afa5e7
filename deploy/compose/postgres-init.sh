#!/bin/sh
# Run once by the postgres image when its data directory is new. The servers connect as an
# ordinary role that owns its database, so PostgreSQL's row-level security (which every tenant
# table has, forced on the owner too) applies to them; POSTGRES_USER is a superuser and would pass it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE minimodules_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'app_password';
CREATE DATABASE minimodules_app OWNER minimodules_app;
SQL

"""Store handles for integration tests that run on SQLite and, with a URL
to a throwaway server (tests/support/pg_server.sh), on PostgreSQL: the
`store = ...` line of a configuration and raw SQL on the store's tables
(used to watch writes and to play the part of someone editing the store
behind itsm-bridge's back)."""
import os
import sqlite3
import subprocess

# The columns that hold a record's content: every column but raw_digest,
# which a sync refreshes alone when a record's raw form changed but not
# what it converts to.
TICKET_CONTENT = ("source,id,key,title,kind,kind_raw,priority,priority_raw,"
                  "status,status_raw,service,grp,created_at,first_response_at,"
                  "resolved_at,closed_at,updated_at,deleted_at,"
                  "reported_response_breached,reported_resolution_breached,digest")
OUTAGE_CONTENT = ('source,id,service,kind,kind_raw,start,"end",updated_at,'
                  "deleted_at,digest")


class Sqlite:
    def __init__(self, path):
        self.path = path

    def store(self):
        return f'store = {{ path = "{self.path}"; }};\n'

    def sql(self, text):
        con = sqlite3.connect(self.path)
        try:
            rows = con.executescript(text) if ";" in text.strip()[:-1] else None
            if rows is None:
                rows = con.execute(text).fetchall()
            else:
                rows = []
            con.commit()
            return rows
        finally:
            con.close()

    def count_writes_begin(self):
        # An UPDATE of the raw digest alone (a record whose raw form
        # changed but not its content) is not a write of the record.
        self.sql(f"""CREATE TABLE side(what TEXT);
        CREATE TRIGGER w1 AFTER UPDATE OF {TICKET_CONTENT} ON tickets BEGIN INSERT INTO side VALUES('t upd'); END;
        CREATE TRIGGER w2 AFTER INSERT ON tickets BEGIN INSERT INTO side VALUES('t ins'); END;
        CREATE TRIGGER w3 AFTER INSERT ON pauses BEGIN INSERT INTO side VALUES('p ins'); END;
        CREATE TRIGGER w4 AFTER DELETE ON pauses BEGIN INSERT INTO side VALUES('p del'); END;
        CREATE TRIGGER w5 AFTER UPDATE OF {OUTAGE_CONTENT} ON outages BEGIN INSERT INTO side VALUES('o upd'); END;
        CREATE TRIGGER w6 AFTER INSERT ON outages BEGIN INSERT INTO side VALUES('o ins'); END;""")

    def count_writes_end(self):
        n = self.sql("SELECT count(*) FROM side")[0][0]
        self.sql("""DROP TRIGGER w1; DROP TRIGGER w2; DROP TRIGGER w3;
        DROP TRIGGER w4; DROP TRIGGER w5; DROP TRIGGER w6; DROP TABLE side;""")
        return n

    def scalar(self, text):
        return self.sql(text)[0][0]

    def tamper_edition(self, seq, old, new):
        """Edits an edition's body as someone with the file could: the
        append-only triggers dropped first. Returns the refusal the
        triggers gave to a plain UPDATE."""
        refusal = ""
        try:
            self.sql(f"UPDATE editions SET reason = 'x' WHERE seq = {seq}")
        except sqlite3.DatabaseError as e:
            refusal = str(e)
        self.sql("DROP TRIGGER editions_no_update;")
        con = sqlite3.connect(self.path)
        try:
            con.execute("UPDATE editions SET body = replace(body, ?, ?) WHERE seq = ?",
                        (old, new, seq))
            con.commit()
        finally:
            con.close()
        return refusal


class Postgres:
    def __init__(self, url):
        self.url = url

    def store(self):
        return f'store = {{ url = "{self.url}"; }};\n'

    def psql(self, text, check=True):
        p = subprocess.run([os.path.join(os.environ["PG_BIN"], "psql"), "-X", "-At",
                            "-v", "ON_ERROR_STOP=1", "-d", self.url,
                            "-c", text], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, PGOPTIONS="-c search_path=itsm_bridge_store"))
        if p.returncode != 0 and check:
            raise RuntimeError(p.stderr)
        return p.stdout.strip() if p.returncode == 0 else p.stderr.strip()

    def count_writes_begin(self):
        self.psql("""CREATE TABLE side(what text);
        CREATE FUNCTION side_note() RETURNS trigger LANGUAGE plpgsql AS
          $$BEGIN INSERT INTO side VALUES(TG_TABLE_NAME || ' ' || TG_OP); RETURN NULL; END$$;
        CREATE TRIGGER w1 AFTER INSERT OR UPDATE OF {TICKET_CONTENT} OR DELETE ON tickets
          FOR EACH ROW EXECUTE FUNCTION side_note();
        CREATE TRIGGER w2 AFTER INSERT OR UPDATE OR DELETE ON pauses
          FOR EACH ROW EXECUTE FUNCTION side_note();
        CREATE TRIGGER w3 AFTER INSERT OR UPDATE OF {OUTAGE_CONTENT} OR DELETE ON outages
          FOR EACH ROW EXECUTE FUNCTION side_note();""".format(
            TICKET_CONTENT=TICKET_CONTENT, OUTAGE_CONTENT=OUTAGE_CONTENT))

    def count_writes_end(self):
        n = int(self.psql("SELECT count(*) FROM side"))
        self.psql("""DROP TRIGGER w1 ON tickets; DROP TRIGGER w2 ON pauses;
        DROP TRIGGER w3 ON outages; DROP FUNCTION side_note(); DROP TABLE side;""")
        return n

    def sql(self, text):
        self.psql(text)

    def scalar(self, text):
        out = self.psql(text)
        return int(out) if out.lstrip("-").isdigit() else out

    def tamper_edition(self, seq, old, new):
        refusal = self.psql(f"UPDATE editions SET reason = 'x' WHERE seq = {seq}",
                            check=False)
        old_q, new_q = old.replace("'", "''"), new.replace("'", "''")
        self.psql("ALTER TABLE editions DISABLE TRIGGER editions_frozen; "
                  f"UPDATE editions SET body = replace(body, '{old_q}', '{new_q}') "
                  f"WHERE seq = {seq}")
        return refusal

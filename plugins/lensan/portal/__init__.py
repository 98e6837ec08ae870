"""`lensan portal`: the web page where reporting units hand in their weekly form (issue #20).

A unit signs in with an access code its province issued (`codes`), downloads this week's blank form
(`form_template`), uploads the filled form and sees at once landing's own verdict (`uploads`, through
`lensan.landing.check_file`): a refused form comes back as a table with the offending cell
highlighted, an accepted one with a receipt, and the file goes atomically into
LENSAN_HOME/landing/weekly_form/ for the ingest DAG. A unit sees its own history, a province its units'
completeness (`queries`). Sessions, CSRF, rate limits and security headers: `security`; the audit
log: `audit`; routes: `app`; pages (Vietnamese): `pages` + templates/; the server: `server`; pooled
warehouse connections: `db`; a scripted user over HTTP: `client` (the demo's upload, `demo`, and the
Thursday-rush benchmark, lensan_dev.bench.rush).

This package imports FastAPI only in `app` and `server`, so `form_template` stays light (the sample
generator writes its forms with the same layout).
"""

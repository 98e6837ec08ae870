-- Raw layer: what landed, as it came (typed only where a human form had to be parsed to be
-- checked). Idempotent: run before every landing (lensan.db.ddl.ensure(conn, "raw")). Contract:
-- docs/raw_formats.md.

-- Concurrent CREATE ... IF NOT EXISTS of one table can fail: every lensan DDL file takes this lock
-- (held until commit).
select pg_advisory_xact_lock(hashtext('lensan.db.ddl'));

create schema if not exists raw;

create table if not exists raw.landed_files (
    file_id        bigserial primary key,
    sha256         text        not null unique,
    source         text        not null,   -- weekly_form | household_register | postmart | voso
    entity         text,                   -- postmart/voso entity; form | register otherwise
    -- No name as delivered (it may carry a person's name or phone; docs/security.md): the public name
    -- (lensan.landing.names.landed_public_name, what manifests list), the keyed hash of the delivered
    -- name (lensan.landing.ledger.name_key) and the folder of the kept copy, <sha256>__<name> there.
    -- Warehouses from before issue 18 are migrated by lensan.landing.migrations (run by
    -- ensure_raw_schema after this file: the backfill needs the pseudonym key and the public-name rule).
    public_name    text        not null,
    name_hash      text        not null,
    archive_dir    text        not null,
    size_bytes     bigint      not null,
    arrived_at     timestamptz not null,
    status         text        not null check (status in ('loaded', 'quarantined')),
    reason_code    text,
    reason_vi      text,
    reason_en      text,
    reason_detail  text,
    row_count      integer,
    unit_code      text,
    period_key     text,                   -- 2026-W47 for forms
    file_date      date                    -- extract or snapshot date
);

-- Withdrawal (`lensan withdraw`): a loaded file taken back by the operator keeps status 'loaded', its
-- archive copy and its raw rows (history), but staging leaves it out while withdrawn_at is set.
-- Looked up first: ALTER TABLE takes an exclusive lock even when the column exists, which would make
-- every landing run wait for (and block) every reader of landed_files.
do $$
begin
    if not exists (select 1 from information_schema.columns
                   where table_schema = 'raw' and table_name = 'landed_files' and column_name = 'withdrawn_reason') then
        alter table raw.landed_files add column if not exists withdrawn_at timestamptz,
                                     add column if not exists withdrawn_reason text;
    end if;
end $$;

-- Same bytes, new meaning: a byte-identical file delivered again under another name (a register re-sent
-- under a new snapshot date, a form resent) is one more delivery of the landed file, never a second copy
-- of its bytes or rows. landed_files keeps its one row per SHA-256 (the first delivery); each later
-- delivery under a new name is a row here. delivery_id is drawn from the landed_files file_id sequence,
-- so a register delivery can stand in for a snapshot file of its own (raw.household_register_snapshots)
-- and sorts after every file landed before it. No foreign key, like the platform tables: reland_all
-- rebuilds landed_files with the same file_ids.
create table if not exists raw.deliveries (
    delivery_id    bigint      primary key,
    file_id        bigint      not null,   -- the landed file (raw.landed_files) whose bytes were delivered
    public_name    text        not null,   -- as in landed_files, with this delivery's unit and date
    name_hash      text        not null,   -- keyed hash of this delivery's name: what tells it apart
    arrived_at     timestamptz not null,   -- mtime in the landing folder, as for landed_files
    recorded_at    timestamptz not null default now(),
    entity         text,                   -- as the name says (an extract without rows is the same bytes for all)
    unit_code      text,
    period_key     text,
    file_date      date,                   -- the date this delivery's name gives (register: snapshot date)
    unique (file_id, name_hash)
);

create table if not exists raw.weekly_forms (
    file_id             bigint primary key references raw.landed_files (file_id),
    unit_code           text not null,
    unit_name           text,
    map_version         text not null,     -- pre2025 | post2025
    week_key            text not null,     -- 2026-W47
    week_start          date not null,
    week_end            date not null,
    reporter_name_hash  text,
    reporter_phone_hash text,
    received_at         timestamptz not null
);

create table if not exists raw.weekly_form_rows (
    file_id          bigint  not null references raw.weekly_forms (file_id),
    row_number       integer not null,
    tt               text    not null,
    section          text    not null,     -- I | II | III | IV
    indicator_code   text    not null,
    label            text,
    unit_label       text,
    value_in_week    numeric,              -- NULL = not reported (never 0)
    growth_pct       numeric,
    cumulative_value numeric,
    completion_pct   numeric,
    notes            text,
    primary key (file_id, indicator_code)
);

create table if not exists raw.household_register (
    file_id              bigint  not null references raw.landed_files (file_id),
    row_number           integer not null,
    unit_code            text    not null,
    snapshot_date        date    not null,
    household_code       text    not null,
    head_name_hash       text,
    phone_hash           text,
    citizen_id_hash      text,
    commune_code         text,
    household_type       text,
    main_product         text,
    trained_digital_on   date,
    trained_logistics_on date,
    training_level       text,
    primary key (file_id, row_number)
);

-- Platform extracts (S3/S4). `file_id` names the raw.landed_files row the rows were loaded with, in the
-- same transaction (landing inserts both or neither; reland_all deletes both). There is deliberately no
-- FOREIGN KEY here: its per-row check cost more than the COPY itself on national files (issue #6).
create table if not exists raw.postmart_shops (
    file_id bigint not null, row_number integer not null,
    extract_date date not null,
    shop_id text, owner_phone_hash text, household_code text, commune_code text, created_at text,
    has_epay text, status text,
    primary key (file_id, row_number));
create table if not exists raw.postmart_products (
    file_id bigint not null, row_number integer not null,
    extract_date date not null,
    product_id text, shop_id text, product_name text, product_group text, product_type text,
    ocop_stars text, traceable text, brand_marked text, household_discount text, listed_at text,
    primary key (file_id, row_number));
create table if not exists raw.postmart_orders (
    file_id bigint not null, row_number integer not null,
    extract_date date not null,
    order_id text, ordered_at text, shop_id text, buyer_account_id text, buyer_phone_hash text,
    product_id text, quantity text, weight_kg text, amount_vnd text, buyer_province_code text,
    buyer_country text, status text, updated_at text,
    primary key (file_id, row_number));
create table if not exists raw.postmart_activity (
    file_id bigint not null, row_number integer not null,
    extract_date date not null,
    account_id text, occurred_at text, activity_type text, commune_code text,
    primary key (file_id, row_number));
create table if not exists raw.postmart_info_posts (
    file_id bigint not null, row_number integer not null,
    extract_date date not null,
    post_id text, category text, province_code text, posted_at text,
    primary key (file_id, row_number));

create table if not exists raw.voso_shops (
    file_id bigint not null, row_number integer not null,
    extract_date date not null,
    shop_id text, owner_phone_hash text, household_code text, commune_code text, created_at text,
    has_epay text, status text,
    primary key (file_id, row_number));
create table if not exists raw.voso_products (
    file_id bigint not null, row_number integer not null,
    extract_date date not null,
    product_id text, shop_id text, product_name text, product_group text, product_type text,
    ocop_stars text, traceable text, brand_marked text, household_discount text, listed_at text,
    primary key (file_id, row_number));
create table if not exists raw.voso_orders (
    file_id bigint not null, row_number integer not null,
    extract_date date not null,
    order_id text, ordered_at text, shop_id text, buyer_account_id text, buyer_phone_hash text,
    product_id text, quantity text, weight_g text, amount_vnd text, buyer_province_code text,
    buyer_country text, status text, updated_at text,
    primary key (file_id, row_number));
create table if not exists raw.voso_activity (
    file_id bigint not null, row_number integer not null,
    extract_date date not null,
    account_id text, occurred_at text, activity_type text, commune_code text,
    primary key (file_id, row_number));
create table if not exists raw.voso_info_posts (
    file_id bigint not null, row_number integer not null,
    extract_date date not null,
    post_id text, category text, province_code text, posted_at text,
    primary key (file_id, row_number));

-- Warehouses created before issue #6 carry a per-row foreign key on the platform tables: drop it once
-- (looked up first, so a normal run takes no lock on the tables).
do $$
declare r record;
begin
    for r in select c.conrelid::regclass as tbl, c.conname
             from pg_constraint c
             where c.contype = 'f' and c.confrelid = 'raw.landed_files'::regclass
               and c.conrelid in ('raw.postmart_shops'::regclass, 'raw.postmart_products'::regclass,
                                  'raw.postmart_orders'::regclass, 'raw.postmart_activity'::regclass,
                                  'raw.postmart_info_posts'::regclass, 'raw.voso_shops'::regclass,
                                  'raw.voso_products'::regclass, 'raw.voso_orders'::regclass,
                                  'raw.voso_activity'::regclass, 'raw.voso_info_posts'::regclass)
    loop
        execute format('alter table %s drop constraint %I', r.tbl, r.conname);
    end loop;
end $$;

-- Register snapshots as delivered: every register file's rows at its own snapshot date, plus, for a
-- byte-identical register re-delivered under a new snapshot date (raw.deliveries), the same rows again
-- at the new date under the delivery's id (a file_id of its own, later than the first delivery's; one
-- per new date). Withdrawn files are left out, with all their deliveries. Created once (replacing a
-- view takes a lock that would wait for every reader): a new definition needs a new name or a drop.
do $$
begin
    if to_regclass('raw.household_register_snapshots') is null then
        create view raw.household_register_snapshots as
        select r.file_id, r.row_number, r.unit_code, r.snapshot_date, r.household_code, r.head_name_hash,
               r.phone_hash, r.citizen_id_hash, r.commune_code, r.household_type, r.main_product,
               r.trained_digital_on, r.trained_logistics_on, r.training_level
        from raw.household_register as r
        join raw.landed_files as f on f.file_id = r.file_id
        where f.withdrawn_at is null
        union all
        select d.delivery_id, r.row_number, r.unit_code, d.file_date, r.household_code, r.head_name_hash,
               r.phone_hash, r.citizen_id_hash, r.commune_code, r.household_type, r.main_product,
               r.trained_digital_on, r.trained_logistics_on, r.training_level
        from raw.deliveries as d
        join raw.landed_files as f on f.file_id = d.file_id
        join raw.household_register as r on r.file_id = d.file_id
        where f.withdrawn_at is null and f.source = 'household_register'
          and d.file_date is distinct from f.file_date
          and not exists (select 1 from raw.deliveries as e
                          where e.file_id = d.file_id and e.file_date = d.file_date and e.delivery_id < d.delivery_id);
    end if;
end $$;

-- legacy.sql - the legacy ERP's tables in the demo sandbox (database "legacy").
CREATE TABLE customers (
	id integer PRIMARY KEY,
	name text NOT NULL,
	email text,
	city text
);
CREATE TABLE articles (
	sku text PRIMARY KEY,
	name text NOT NULL,
	list_price numeric(10, 2) NOT NULL
);
CREATE TABLE stock (
	warehouse text NOT NULL,
	sku text NOT NULL,
	qty numeric NOT NULL,
	PRIMARY KEY (warehouse, sku)
);
CREATE TABLE invoices (
	id integer PRIMARY KEY,
	customer_id integer NOT NULL,
	open_amount numeric(12, 2) NOT NULL
);
CREATE TABLE batch_control (job text PRIMARY KEY, enabled boolean NOT NULL);

INSERT INTO customers
SELECT i, 'Customer ' || i, 'customer' || i || '@example.com',
       (ARRAY['Lyon', 'Lille', 'Nantes', 'Köln', 'Zürich'])[1 + i % 5]
FROM generate_series(1, 200) AS i;
INSERT INTO articles
SELECT 'SKU-' || lpad(i::text, 4, '0'), 'Article ' || i, (i * 1.5)::numeric(10, 2)
FROM generate_series(1, 120) AS i;
INSERT INTO stock
SELECT w, 'SKU-' || lpad(i::text, 4, '0'), (i * 3) % 50
FROM generate_series(1, 120) AS i, unnest(ARRAY['DC1', 'ST101', 'ST117']) AS w;
INSERT INTO invoices
SELECT i, 1 + i % 200, (i * 7.25)::numeric(12, 2)
FROM generate_series(1, 80) AS i;
INSERT INTO batch_control VALUES ('nightly', true), ('pos-sync', true);

-- odoo.sql - Odoo-shaped tables in the demo sandbox (database "odoo"),
-- loaded from legacy with a few planted differences:
--   res_partner: customer 42 missing, customer 77's email changed
--   product_product: prices stored with another scale (same values);
--   against the legacy POS (demo/legacy-pos.sql, MariaDB) SKU-0033's
--   price and SKU-0045's active flag differ, and the gift card is missing
--   stock_quant: ST117 / SKU-0007 counted 1 short
--   account_move: one invoice 0.50 lower
--   pos_config: store-205's tills are not configured yet (its readiness
--   check fails and the store drops out of the wave)
CREATE TABLE res_partner (
	id serial PRIMARY KEY,
	ref text,
	name text NOT NULL,
	email text,
	city text,
	active boolean NOT NULL DEFAULT true
);
CREATE TABLE product_product (
	id serial PRIMARY KEY,
	default_code text,
	name text NOT NULL,
	lst_price numeric(12, 4) NOT NULL,
	active boolean NOT NULL DEFAULT true,
	barcode text
);
CREATE TABLE stock_quant (
	id serial PRIMARY KEY,
	location text NOT NULL,
	product_code text NOT NULL,
	quantity numeric NOT NULL
);
CREATE TABLE account_move (
	id serial PRIMARY KEY,
	ref text,
	partner_ref text,
	amount_residual numeric(12, 2) NOT NULL,
	payment_state text NOT NULL DEFAULT 'not_paid'
);
CREATE TABLE ir_cron (id serial PRIMARY KEY, name text, active boolean NOT NULL);
CREATE TABLE pos_config (store text PRIMARY KEY, warehouse text NOT NULL, state text NOT NULL);

INSERT INTO res_partner (ref, name, email, city)
SELECT i::text, 'Customer ' || i,
       CASE WHEN i = 77 THEN 'c77@new-domain.example' ELSE 'customer' || i || '@example.com' END,
       (ARRAY['Lyon', 'Lille', 'Nantes', 'Köln', 'Zürich'])[1 + i % 5]
FROM generate_series(1, 200) AS i WHERE i <> 42;
INSERT INTO product_product (default_code, name, lst_price, barcode)
SELECT 'SKU-' || lpad(i::text, 4, '0'), 'Article ' || i, (i * 1.5)::numeric(12, 4),
       CASE WHEN i % 10 = 0 THEN '376000000' || lpad(i::text, 4, '0') END
FROM generate_series(1, 120) AS i;
INSERT INTO stock_quant (location, product_code, quantity)
SELECT w, 'SKU-' || lpad(i::text, 4, '0'),
       (i * 3) % 50 - CASE WHEN w = 'ST117' AND i = 7 THEN 1 ELSE 0 END
FROM generate_series(1, 120) AS i, unnest(ARRAY['DC1', 'ST101', 'ST117']) AS w;
INSERT INTO account_move (ref, partner_ref, amount_residual)
SELECT 'INV/' || i, (1 + i % 200)::text,
       (i * 7.25)::numeric(12, 2) - CASE WHEN i = 13 THEN 0.50 ELSE 0 END
FROM generate_series(1, 80) AS i;
INSERT INTO ir_cron (name, active) VALUES ('Stock rules', false), ('Mail queue', false);
INSERT INTO pos_config VALUES ('store-101', 'ST101', 'ready'),
    ('store-117', 'ST117', 'ready'), ('store-205', 'ST205', 'not_configured');

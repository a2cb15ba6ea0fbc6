-- legacy-pos.sql - the legacy point-of-sale system's articles in the demo
-- sandbox (MariaDB, database "pos", reached through ODBC). Its types are
-- not Odoo's: prices in DECIMAL(10,2), the active flag in TINYINT(1), no
-- barcode written as '' (Odoo writes NULL). The differences planted
-- against the odoo database's product_product:
--   SKU-0033 costs 50.00 at the tills, 49.50 in Odoo
--   SKU-0045 is inactive at the tills, active in Odoo
--   GIFT-CARD exists only at the tills
CREATE TABLE pos_articles (
	sku VARCHAR(20) PRIMARY KEY,
	label VARCHAR(60) NOT NULL,
	price DECIMAL(10, 2) NOT NULL,
	active TINYINT(1) NOT NULL,
	barcode VARCHAR(13) NOT NULL DEFAULT ''
) CHARACTER SET utf8mb4;
INSERT INTO pos_articles
WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
SELECT CONCAT('SKU-', LPAD(i, 4, '0')), CONCAT('Article ', i),
       CASE WHEN i = 33 THEN 50.00 ELSE i * 1.5 END,
       CASE WHEN i = 45 THEN 0 ELSE 1 END,
       CASE WHEN i % 10 = 0 THEN CONCAT('376000000', LPAD(i, 4, '0')) ELSE '' END
FROM n;
INSERT INTO pos_articles VALUES ('GIFT-CARD', 'Gift card', 0.00, 1, '');

-- Death registrations on or before the as-of date, one row per person (the earliest).
CREATE OR REPLACE VIEW deaths_asof AS
SELECT id_number, min(death_date) AS death_date
FROM civil_affairs_deaths
WHERE death_date <= getvariable('as_of')
GROUP BY id_number;

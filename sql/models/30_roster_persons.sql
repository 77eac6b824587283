-- Roster person: a department ID that matches an active roster member; its household is that
-- member's. An ID on several active member rows (an L12 error) takes the smallest household_id.
CREATE OR REPLACE VIEW roster_persons AS
SELECT id_number, min(household_id) AS household_id
FROM active_members
WHERE id_number IS NOT NULL
GROUP BY id_number;

-- Anyone deceased by the roster or by a death registration: never raises W rules.
CREATE OR REPLACE VIEW deceased_ids AS
SELECT id_number FROM members WHERE status = '死亡' AND id_number IS NOT NULL
UNION
SELECT id_number FROM deaths_asof;

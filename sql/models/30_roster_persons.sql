-- Roster person: a department ID that matches an active roster member; its household is that
-- member's. An ID on several active member rows (an L12 error) takes the smallest household_id.
CREATE OR REPLACE VIEW roster_persons AS
SELECT id_number, min(household_id) AS household_id
FROM active_members
WHERE id_number IS NOT NULL
GROUP BY id_number;

-- Anyone deceased by the roster or by a death registration: never raises W rules.
-- A registration counts when dated on or before the as-of date, or undated (its date empty or
-- unreadable: nobody is registered for cremation in advance, so the person is dead; only a
-- registration dated after the as-of date leaves them alive at that date).
CREATE OR REPLACE VIEW deceased_ids AS
SELECT id_number FROM members WHERE status = '死亡' AND id_number IS NOT NULL
UNION
SELECT id_number FROM deaths_asof
UNION
SELECT id_number FROM civil_affairs_deaths WHERE death_date IS NULL AND id_number IS NOT NULL;

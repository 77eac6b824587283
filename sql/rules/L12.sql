-- L12 证件号码重复 (person; every member row, deceased and moved-out included).
-- Policy: 一人一号（同一证件号码不得在系统中重复采录）.
-- Every member row whose normalised ID appears on more than one member row (in the same or in
-- different households) is reported. Empty IDs are L10's.
WITH repeated AS (
    SELECT id_number
    FROM members
    WHERE coalesce(id_number, '') <> ''
    GROUP BY id_number
    HAVING count(*) > 1
),
dup AS (
    SELECT
        id_number,
        count(*) AS n_rows,
        string_agg(DISTINCT household_id, '、' ORDER BY household_id) AS households
    FROM members
    SEMI JOIN repeated USING (id_number)
    GROUP BY id_number
)
SELECT
    m.household_id,
    m.id_number,
    m.name,
    h.county, h.township, h.village,
    '证件号码在 ' || d.n_rows || ' 条成员记录中重复出现（户编号 ' || d.households || '）' AS detail
FROM members AS m
JOIN dup AS d USING (id_number)
LEFT JOIN households AS h USING (household_id);

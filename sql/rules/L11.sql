-- L11 性别与证件号码不符 (person; every member row).
-- Policy: 居民身份证号码 GB 11643-1999（第 17 位奇数为男、偶数为女）.
-- Evaluated for every ID with the 18-character shape (17 digits plus a digit or X), even one
-- whose check character or birth date is wrong (L10 reports that): the 17th digit is still what
-- the system records. An ID of another length has no 17th digit to trust, and an empty or
-- unknown gender is not a disagreement.
WITH shaped AS (
    SELECT
        m.household_id, m.name, m.id_number, m.gender
    FROM members AS m
    WHERE regexp_full_match(m.id_number, '[0-9]{17}[0-9X]')
      AND m.gender IN ('男', '女')
),
expected AS (
    SELECT
        *,
        substr(id_number, 17, 1) AS digit17,
        CASE WHEN substr(id_number, 17, 1)::INTEGER % 2 = 1 THEN '男' ELSE '女' END AS id_gender
    FROM shaped
)
SELECT
    e.household_id,
    e.id_number,
    e.name,
    h.county, h.township, h.village,
    '性别为' || e.gender || '，但证件号码第 17 位 ' || e.digit17 || ' 为'
        || CASE WHEN e.id_gender = '男' THEN '奇数（男）' ELSE '偶数（女）' END AS detail
FROM expected AS e
LEFT JOIN households AS h USING (household_id)
WHERE e.gender <> e.id_gender;

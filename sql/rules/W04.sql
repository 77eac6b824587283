-- W04 义务教育阶段失学辍学 (rules.md W04; risk type 义务教育保障; verify within 10 working days;
--   roster only).
-- Finds: roster households with an active member aged compulsory_age_min..compulsory_age_max
--   (full years at the as-of date, from the birth date in the ID number) who has no student
--   registry record with status 在读.
-- Policy: 两不愁三保障 义务教育有保障; 甘孜州第十一条 教育类不超过10个工作日.
-- Reads: as_of, compulsory_age_min, compulsory_age_max.
WITH reading AS (
    SELECT DISTINCT id_number
    FROM education_students
    WHERE enrolment_status = '在读'
),

latest_record AS (
    SELECT
        id_number,
        string_agg(DISTINCT concat_ws(' ', school, stage, grade, enrolment_status), '、') AS records
    FROM education_students
    GROUP BY id_number
),

children AS (
    SELECT m.household_id, m.id_number, m.name, m.age, r.records
    FROM active_members AS m
    LEFT JOIN latest_record AS r USING (id_number)
    WHERE m.age BETWEEN getvariable('compulsory_age_min') AND getvariable('compulsory_age_max')
      AND NOT EXISTS (SELECT 1 FROM reading AS e WHERE e.id_number = m.id_number)
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = m.id_number)
),

hits AS (
    SELECT
        household_id,
        count(*) AS n,
        string_agg(
            coalesce(name, '') || '（' || age || '周岁，' || id_number || '）'
                || CASE WHEN records IS NULL THEN '学籍系统无记录'
                        ELSE '学籍无“在读”记录（' || records || '）' END,
            '；' ORDER BY id_number) AS items,
        md5(string_agg(concat_ws('|', id_number, coalesce(records, '无记录')), ',' ORDER BY id_number)) AS evidence_key
    FROM children
    GROUP BY household_id
)

SELECT
    h.household_id,
    h.head_id_number AS id_number,
    h.head_name AS name,
    h.county,
    h.township,
    h.village,
    true AS in_roster,
    r.n || ' 名义务教育阶段适龄成员（' || getvariable('compulsory_age_min') || '—'
        || getvariable('compulsory_age_max') || '周岁）无在读学籍：' || r.items AS evidence,
    r.evidence_key
FROM hits AS r
JOIN households AS h USING (household_id)

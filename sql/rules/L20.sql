-- L20 低保特困状态不一致 (person; active members).
-- Policy: 民政低保、特困供养数据比对（兜底保障信息线上线下一致）.
-- An "active" record is as in W07: end_date empty or after the as-of date, and status not 停保.
-- Its start date is not looked at (a start after the as-of date is a source-date error, S03).
-- Fires when dibao = 是 but the person has no active 农村低保 record, or has one but dibao is not
-- 是; the same for tekun and 特困供养. One row per member, listing both halves when both apply.
-- Skipped by the runner when the civil-affairs assistance extract is absent.
WITH active_records AS (
    SELECT
        id_number,
        min(start_date) FILTER (WHERE assistance_type = '农村低保') AS dibao_start,
        min(start_date) FILTER (WHERE assistance_type = '特困供养') AS tekun_start,
        bool_or(assistance_type = '农村低保') AS has_dibao,
        bool_or(assistance_type = '特困供养') AS has_tekun
    FROM civil_affairs_assistance
    WHERE assistance_type IN ('农村低保', '特困供养')
      AND (end_date IS NULL OR end_date > getvariable('as_of'))
      AND status IS DISTINCT FROM '停保'
      AND id_number IS NOT NULL
    GROUP BY id_number
),
compared AS (
    SELECT
        m.household_id, m.id_number, m.name, m.county, m.township, m.village, m.dibao, m.tekun,
        coalesce(r.has_dibao, false) AS has_dibao,
        coalesce(r.has_tekun, false) AS has_tekun,
        r.dibao_start, r.tekun_start
    FROM active_members AS m
    LEFT JOIN active_records AS r USING (id_number)
),
judged AS (
    SELECT
        *,
        concat_ws('；',
            CASE WHEN dibao = '是' AND NOT has_dibao THEN '系统标注享受农村低保，但民政无有效的农村低保记录' END,
            CASE WHEN has_dibao AND dibao IS DISTINCT FROM '是' THEN
                '民政有有效的农村低保记录' || coalesce('（开始日期 ' || strftime(dibao_start, '%Y-%m-%d') || '）', '')
                || '，但系统“是否享受农村低保”为' || coalesce(dibao, '空') END,
            CASE WHEN tekun = '是' AND NOT has_tekun THEN '系统标注特困供养，但民政无有效的特困供养记录' END,
            CASE WHEN has_tekun AND tekun IS DISTINCT FROM '是' THEN
                '民政有有效的特困供养记录' || coalesce('（开始日期 ' || strftime(tekun_start, '%Y-%m-%d') || '）', '')
                || '，但系统“是否特困供养”为' || coalesce(tekun, '空') END
        ) AS detail
    FROM compared
)
SELECT household_id, id_number, name, county, township, village, detail
FROM judged
WHERE detail <> '';

-- L10 证件号码无效 (person; every member row, deceased and moved-out included).
-- Policy: 居民身份证号码 GB 11643-1999（逻辑错误：证件号码不规范）.
-- The normalised roster ID (15-digit numbers are already upgraded by ingest) fires when it is
-- empty or not 18 characters, is not 17 digits plus a digit or X, carries an impossible birth
-- date (no such calendar day, before 1900, or after the as-of date), or a wrong check character
-- (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, sum mod 11 indexes "10X98765432").
-- An ID ingest could not recover at all (e.g. 6.20422E+17) is shown as delivered.
WITH ids AS (
    SELECT
        m.household_id, m.name,
        coalesce(nullif(m.id_number, ''), nullif(trim(m.id_number_raw), '')) AS shown_id,
        coalesce(m.id_number, '') AS id
    FROM members AS m
),
shaped AS (
    SELECT
        *,
        regexp_full_match(id, '[0-9]{17}[0-9X]') AS well_formed
    FROM ids
),
checked AS (
    SELECT
        *,
        CASE WHEN well_formed THEN try_strptime(substr(id, 7, 8), '%Y%m%d')::DATE END AS birth,
        id_check_char(id) AS expected_check
    FROM shaped
),
problems AS (
    SELECT
        *,
        CASE
            WHEN id = '' AND shown_id IS NULL THEN '证件号码为空'
            WHEN id = '' THEN '证件号码“' || shown_id || '”无法识别（可能被 Excel 转成了数字）'
            WHEN length(id) <> 18 THEN '证件号码 ' || id || ' 为 ' || length(id) || ' 位（应为 18 位）'
            WHEN NOT well_formed THEN '证件号码 ' || id || ' 含非法字符（应为 17 位数字加 1 位数字或 X）'
            WHEN birth IS NULL OR birth < DATE '1900-01-01' OR birth > getvariable('as_of')
                THEN '证件号码 ' || id || ' 中的出生日期 ' || substr(id, 7, 8) || ' 不存在'
            WHEN right(id, 1) <> expected_check
                THEN '证件号码 ' || id || ' 校验码错误（第 18 位应为 ' || expected_check || '，实为 ' || right(id, 1) || '）'
        END AS detail
    FROM checked
)
SELECT
    p.household_id,
    p.shown_id AS id_number,
    p.name,
    h.county, h.township, h.village,
    p.detail
FROM problems AS p
LEFT JOIN households AS h USING (household_id)
WHERE p.detail IS NOT NULL;

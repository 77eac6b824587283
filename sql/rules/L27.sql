-- L27 疑似本户记录未归户 (rules.md L27; outputs.md "Record linkage").
-- Finds: households with an active member to whom a department row rejected for its ID (empty or
--   destroyed by Excel) is linked with a match probability in the review band: at or above
--   [linkage] review but not accepted (below [linkage] accept, or another member is as likely).
--   One row per household; the detail names each record, the member it may be and what agreed.
-- A township's 不属实 suppresses it (registry suppress_on) until the linked records change.
-- Reads record_links (checks/linkage.py); skipped by the runner when linkage did not run.
WITH band AS (
    SELECT
        l.household_id,
        string_agg(
            l.file || coalesce('：' || l.sheet, '') || ' 第' || l.row_number || '行'
            || '疑似本户成员 ' || m.name
            || '（' || coalesce(l.agreed, '姓名') || '一致，匹配概率 '
            || format('{:.3f}', least(l.match_probability, 0.999)) || '）',
            '；' ORDER BY l.file, l.sheet, l.row_number, m.name
        ) AS items,
        count(*) AS n,
        md5(string_agg(l.file || '|' || coalesce(l.sheet, '') || '|' || l.row_number || '|' || l.id_number, ','
                       ORDER BY l.file, l.sheet, l.row_number, l.id_number)) AS evidence_key
    FROM record_links AS l
    JOIN active_members AS m ON m.id_number = l.id_number AND m.household_id = l.household_id
    WHERE l.run_id = getvariable('run_id') AND NOT l.accepted
    GROUP BY l.household_id
)
SELECT
    h.household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    h.county, h.township, h.village,
    '部门记录证件号码为空或被Excel损坏，无法直接归户，按其余信息比对疑似本户成员的记录 ' || b.n || ' 条：'
        || b.items || '。请核实是否为本户成员的记录' AS detail,
    b.evidence_key
FROM households AS h
JOIN band AS b USING (household_id);

-- Record linkage (outputs.md "Record linkage"): department rows rejected for their ID, linked to the
-- roster member they most likely are. A link is evidence, never a fact: no normalised table changes.

CREATE TABLE IF NOT EXISTS record_links (
    run_id            VARCHAR NOT NULL,
    source_table      VARCHAR NOT NULL,
    file              VARCHAR NOT NULL,
    sheet             VARCHAR,
    row_number        INTEGER,
    id_number         VARCHAR NOT NULL,
    household_id      VARCHAR,
    match_probability DOUBLE NOT NULL,
    agreed            VARCHAR,
    method            VARCHAR NOT NULL,
    accepted          BOOLEAN NOT NULL
);
COMMENT ON TABLE record_links IS '记录关联 A rejected department row (its ID empty or destroyed) and a roster member it may be, when the match probability is at least [linkage] review; the row stays in rejects.';
COMMENT ON COLUMN record_links.run_id IS '运行编号 The run.';
COMMENT ON COLUMN record_links.source_table IS '部门表 The department table the rejected row was meant for.';
COMMENT ON COLUMN record_links.file IS '文件 The rejected row''s file, relative to the inbox (as in rejects).';
COMMENT ON COLUMN record_links.sheet IS '工作表 The rejected row''s sheet, null for CSV and Parquet (as in rejects).';
COMMENT ON COLUMN record_links.row_number IS '行号 The rejected row''s row number (as in rejects).';
COMMENT ON COLUMN record_links.id_number IS '匹配证件号码 The roster member''s ID number the row was matched to (never written into a normalised table).';
COMMENT ON COLUMN record_links.household_id IS '户编号 That member''s household.';
COMMENT ON COLUMN record_links.match_probability IS '匹配概率 Probability that the row is that member: 1 for the deterministic rule, else the Splink (Fellegi-Sunter) model''s.';
COMMENT ON COLUMN record_links.agreed IS '一致项 The fields that agreed, in Chinese (姓名、出生日期、村 …).';
COMMENT ON COLUMN record_links.method IS '匹配方法 deterministic (name + first 15 ID digits + township) or splink.';
COMMENT ON COLUMN record_links.accepted IS '采用 True when the row counts as that member''s record for the W rules: probability at least [linkage] accept and no other member at least [linkage] review; else it is L27 for the township to confirm.';

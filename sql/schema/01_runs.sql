-- Run records and ingest bookkeeping (outputs.md "The warehouse": runs, rejects).

CREATE TABLE IF NOT EXISTS runs (
    run_id          VARCHAR NOT NULL,
    as_of_date      DATE NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    status          VARCHAR NOT NULL,
    inbox           VARCHAR,
    config_digest   VARCHAR,
    county          VARCHAR,
    fingerprints    JSON,
    row_counts      JSON,
    stage_seconds   JSON,
    skipped         JSON,
    summary         JSON
);
COMMENT ON TABLE runs IS '每次运行一行 One row per run of the nightly flow: when, on what inbox and settings, how it ended.';
COMMENT ON COLUMN runs.run_id IS '运行编号 Run identifier, sortable by start time; every other table carries it.';
COMMENT ON COLUMN runs.as_of_date IS '基准日期 The run''s reference date (--as-of): ages, windows and deadlines count from it.';
COMMENT ON COLUMN runs.started_at IS '开始时间 When the run started (local time).';
COMMENT ON COLUMN runs.finished_at IS '结束时间 When the run finished; null while running or if it died.';
COMMENT ON COLUMN runs.status IS '状态 completed / failed. Only completed runs feed latest_* views and history.';
COMMENT ON COLUMN runs.inbox IS '收件目录 The inbox directory the run read.';
COMMENT ON COLUMN runs.config_digest IS '配置摘要 SHA-256 prefix of the configuration used.';
COMMENT ON COLUMN runs.county IS '县 The configured county.';
COMMENT ON COLUMN runs.fingerprints IS '文件指纹 Per source folder: each file''s path, size and content hash.';
COMMENT ON COLUMN runs.row_counts IS '行数 Per warehouse table: rows read, loaded, rejected, duplicates.';
COMMENT ON COLUMN runs.stage_seconds IS '阶段耗时 Seconds spent in each stage of the flow.';
COMMENT ON COLUMN runs.skipped IS '跳过 Rules, sources, files and sheets skipped, each with the reason.';
COMMENT ON COLUMN runs.summary IS '摘要 The end-of-run summary as printed (also written as summary.json beside the reports).';

CREATE TABLE IF NOT EXISTS input_files (
    run_id          VARCHAR NOT NULL,
    folder          VARCHAR NOT NULL,
    file            VARCHAR NOT NULL,
    sheet           VARCHAR,
    source_table    VARCHAR,
    header_row      INTEGER,
    rows_read       BIGINT,
    rows_loaded     BIGINT,
    rows_rejected   BIGINT,
    duplicates      BIGINT,
    status          VARCHAR NOT NULL,
    reason          VARCHAR,
    fingerprint     VARCHAR
);
COMMENT ON TABLE input_files IS '输入文件 Every file and sheet of the inbox a run looked at, what it was recognised as, or why it was skipped.';
COMMENT ON COLUMN input_files.run_id IS '运行编号 The run.';
COMMENT ON COLUMN input_files.folder IS '部门目录 Inbox folder (roster, civil_affairs, ...).';
COMMENT ON COLUMN input_files.file IS '文件 Path relative to the inbox.';
COMMENT ON COLUMN input_files.sheet IS '工作表 Sheet name for workbooks; null for CSV and Parquet.';
COMMENT ON COLUMN input_files.source_table IS '目标表 Warehouse table the file or sheet was recognised as; null when skipped.';
COMMENT ON COLUMN input_files.header_row IS '表头行 1-based row number of the header row found.';
COMMENT ON COLUMN input_files.rows_read IS '读取行数 Data rows read (blank and footer rows excluded).';
COMMENT ON COLUMN input_files.rows_loaded IS '入库行数 Rows that reached the normalised table (after exact duplicates were folded).';
COMMENT ON COLUMN input_files.rows_rejected IS '拒收行数 Rows sent to rejects.';
COMMENT ON COLUMN input_files.duplicates IS '重复行数 Exact duplicate rows folded into one (S10).';
COMMENT ON COLUMN input_files.status IS '状态 loaded / skipped / unreadable.';
COMMENT ON COLUMN input_files.reason IS '原因 Why a file or sheet was skipped or unreadable, with the header names tried.';
COMMENT ON COLUMN input_files.fingerprint IS '指纹 Content hash of the file.';

CREATE TABLE IF NOT EXISTS rejects (
    run_id          VARCHAR NOT NULL,
    source_table    VARCHAR NOT NULL,
    file            VARCHAR NOT NULL,
    sheet           VARCHAR,
    row_number      INTEGER,
    reason          VARCHAR NOT NULL,
    raw             JSON
);
COMMENT ON TABLE rejects IS '拒收记录 Input rows that could not be loaded, with the reason; with the normalised tables they account for every input row.';
COMMENT ON COLUMN rejects.run_id IS '运行编号 The run.';
COMMENT ON COLUMN rejects.source_table IS '目标表 The warehouse table the row was meant for (verifications for returned feedback rows).';
COMMENT ON COLUMN rejects.file IS '文件 Path relative to the inbox.';
COMMENT ON COLUMN rejects.sheet IS '工作表 Sheet name, null for CSV and Parquet.';
COMMENT ON COLUMN rejects.row_number IS '行号 1-based row number in the file or sheet as a person sees it in Excel.';
COMMENT ON COLUMN rejects.reason IS '原因 Why the row was rejected, in plain words.';
COMMENT ON COLUMN rejects.raw IS '原始值 The row as read: header -> cell text.';

/**
 * Config schema of `app detail_reader [NAME] { … }`.
 */
import { conf } from '../../core';

export const DetailReaderConfig = conf.section({
  filename: conf.string({
    required: true,
    doc: 'Detail files to read: a path whose last component may hold `*` and `?` wildcards (`${radacctdir}/spool/detail-*`). The oldest matching file is renamed to `work_file` and read; then the next one.',
  }),
  work_file: conf.string({ doc: 'The file being read (default `detail.work` beside `filename`). It survives restarts: records already acknowledged in it are marked and skipped.' }),
  site: conf.string({ required: true, doc: 'The virtual server (`server NAME { … }`) each record runs through as an Accounting-Request. A record is acknowledged when the site answers Accounting-Response.' }),
  max_outstanding: conf.integer({ default: 8, min: 1, max: 4096, doc: 'Records in flight through the site at once.' }),
  rate: conf.integer({ default: 0, min: 0, max: 1_000_000, doc: 'At most this many records per second (0 = no limit besides `max_outstanding`).' }),
  poll_interval: conf.duration({ default: '1s', min: '10ms', max: '1h', doc: 'How often to look for new files (and new records in the work file) when idle.' }),
  retry_interval: conf.duration({ default: '30s', min: '10ms', max: '1d', doc: 'A record the site did not acknowledge is sent again after this long; sending pauses meanwhile.' }),
  settle: conf.duration({ default: '2s', min: '10ms', max: '1h', doc: 'A fully processed work file is deleted only when it has not changed for this long (a writer that had it open may still append to it).' }),
  stop_timeout: conf.duration({ default: '2s', min: 0, max: '60s', doc: 'On stop or reload, how long records in flight may finish before they are abandoned (and sent again after the restart).' }),
});

/** Parsed `detail_reader` config. */
export type DetailReaderConfig = conf.Infer<typeof DetailReaderConfig>;

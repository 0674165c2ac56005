/**
 * CSV as GTFS publishes it (RFC 4180): a UTF-8 byte order mark before the header is common,
 * fields may be quoted, quotes inside are doubled, quoted fields may hold commas and line breaks,
 * lines end in CRLF or LF, and the last line may lack its end. Headers carry stray spaces in the
 * wild; they are trimmed. Rows are handed out one at a time so stop_times.txt (millions of rows in
 * a city's feed) is never held as a table.
 */

export class CsvError extends Error {
  readonly code = 'GTFS_CSV_INVALID';
}

/** Parse `text`; `onRow` gets each data row keyed by the header's column names. Returns the row count. */
export function parseCsv(text: string, onRow: (row: Readonly<Record<string, string>>, line: number) => void): number {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let header: string[] | undefined;
  let fields: string[] = [];
  let field = '';
  let lineNo = 1;
  let rowLine = 1;
  let rows = 0;
  const n = text.length;
  /** Where the next quote is (searched once, not per line). */
  let nextQuote = -1;
  const endRow = () => {
    fields.push(field);
    field = '';
    const blank = fields.length === 1 && fields[0] === '';
    if (!blank) {
      if (!header) header = fields.map((f) => f.trim());
      else {
        const row: Record<string, string> = {};
        for (let k = 0; k < header.length; k++) {
          const v = fields[k];
          row[header[k] as string] = v === undefined ? '' : v.length && (v.charCodeAt(0) === 32 || v.charCodeAt(v.length - 1) === 32) ? v.trim() : v;
        }
        rows++;
        onRow(row, rowLine);
      }
    }
    fields = [];
  };
  while (i < n) {
    // Fast path: a whole line without quotes, at the start of a record, is split as it is.
    if (field === '' && fields.length === 0) {
      let end = text.indexOf('\n', i);
      if (end < 0) end = n;
      if (nextQuote < i) {
        nextQuote = text.indexOf('"', i);
        if (nextQuote < 0) nextQuote = n;
      }
      if (nextQuote > end) {
        let line = text.slice(i, end);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        // A lone CR ends a record too (old Mac exports): leave those to the slow path.
        if (!line.includes('\r')) {
          fields = line.split(',');
          field = fields.pop() ?? '';
          endRow();
          i = end + 1;
          lineNo++;
          rowLine = lineNo;
          continue;
        }
      }
    }
    const c = text[i];
    if (c === '"' && field === '') {
      // A quoted field: up to the closing quote, "" is one quote.
      i++;
      const start = lineNo;
      for (;;) {
        if (i >= n) throw new CsvError(`line ${start}: a quoted field is never closed`);
        const q = text[i];
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\n') lineNo++;
        field += q;
        i++;
      }
      // Anything between the closing quote and the separator is kept (lenient, as feeds need).
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      endRow();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      lineNo++;
      rowLine = lineNo;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

/** GTFS time "HH:MM:SS" (hours may pass 24 for trips after midnight) in seconds, or undefined. */
export function gtfsTime(s: string): number | undefined {
  const m = /^(\d{1,3}):([0-5]\d):([0-5]\d)$/.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

// Progress for long runs: a redrawn bar on a terminal, plain lines otherwise.

export interface Progress {
  update(done: number, total: number, label: string): void;
  /** A line of its own (clears the bar first). */
  note(text: string): void;
  finish(): void;
}

const BAR_WIDTH = 30;

export function createProgress(write: (text: string) => void, isTty: boolean): Progress {
  let barShown = false;
  let lastTenth = -1;
  return {
    update(done, total, label) {
      if (isTty) {
        const filled = total > 0 ? Math.round((done / total) * BAR_WIDTH) : 0;
        const bar = total > 0 ? `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${done}/${total}` : `${done}`;
        write(`\r${label} ${bar}\u001b[K`);
        barShown = true;
        return;
      }
      const tenth = total > 0 ? Math.floor((done * 10) / total) : -1;
      if (total > 0 && tenth !== lastTenth) {
        lastTenth = tenth;
        write(`${label}: ${done}/${total}\n`);
      }
    },
    note(text) {
      if (barShown) write('\r\u001b[K');
      barShown = false;
      lastTenth = -1;
      write(`${text}\n`);
    },
    finish() {
      if (barShown) write('\n');
      barShown = false;
    },
  };
}

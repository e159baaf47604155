/**
 * Training progress for people: one line rewritten in place on a terminal, plain lines
 * otherwise (CI logs), always on stderr so stdout stays machine-readable.
 */
import type { TrainEvent } from './train.ts';

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Returns a TrainEvent listener that reports to `sink`. */
export function progressReporter(sink: ProgressSink, model: string): (event: TrainEvent) => void {
  const tty = sink.isTTY === true;
  let current = '';
  const status = (text: string): void => {
    if (tty) sink.write(`\r\x1b[2K${text}`);
    current = text;
  };
  const line = (text: string): void => {
    sink.write(tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
  };
  return (event) => {
    switch (event.type) {
      case 'candidate':
        status(`${model}: [${event.index + 1}/${event.total}] ${event.name}`);
        break;
      case 'fold':
        if (tty)
          status(`${current.replace(/ fold \d+\/\d+$/, '')} fold ${event.fold}/${event.folds}`);
        break;
      case 'candidate-done':
        line(
          `${model}: ${event.result.name} cv macro-F1 ${event.result.cv.mean.macroF1.toFixed(4)} ` +
            `± ${event.result.cv.std.macroF1.toFixed(4)}, accuracy ${event.result.cv.mean.accuracy.toFixed(4)} ` +
            `(${event.seconds.toFixed(1)} s)`,
        );
        break;
      case 'refit':
        status(`${model}: refitting ${event.name} on the training part`);
        break;
      case 'done':
        line(`${model}: trained in ${event.seconds.toFixed(1)} s`);
        break;
    }
  };
}

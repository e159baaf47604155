/**
 * The demo's terminal: styling, the narrator (headed steps, `$ …` commands, what to notice)
 * and the sandbox's shell, which runs `git` and the sandbox's own `pinml` as child processes
 * with their output streamed under the command.
 */
import { spawn } from 'node:child_process';
import { devNull } from 'node:os';
import path from 'node:path';

/** Terminal styling: escape codes on a terminal that has colours, plain text otherwise. */
export interface Paint {
  bold(text: string): string;
  dim(text: string): string;
  step(text: string): string;
  command(text: string): string;
  notice(text: string): string;
  good(text: string): string;
  bad(text: string): string;
}

export function paint(enabled: boolean): Paint {
  const sgr =
    (open: string) =>
    (text: string): string =>
      enabled ? `\x1b[${open}m${text}\x1b[0m` : text;
  return {
    bold: sgr('1'),
    dim: sgr('2'),
    step: sgr('1;36'),
    command: sgr('1'),
    notice: sgr('33'),
    good: sgr('32'),
    bad: sgr('1;31'),
  };
}

export function hasColours(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && stream.hasColors();
}

/** How a command is shown after `$ `: bare words where the shell would take them as they are. */
export function shellWord(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return /\s/.test(arg) && !/["$`\\]/.test(arg) ? `"${arg}"` : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The children's environment: the caller's, minus anything that would point git elsewhere. */
function childEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // GIT_DIR, GIT_INDEX_FILE and friends are set when this runs inside a git hook; they would
  // send the sandbox's commands to the hook's repository.
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GIT_')) env[key] = value;
  }
  // The user's global configuration (signing, hooks, merge defaults) must not change the
  // story; the sandbox sets the identity it commits with itself.
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: devNull,
    GIT_TERMINAL_PROMPT: '0',
  };
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a child to its end; `onLine` receives its output line by line as it arrives. */
function runChild(
  file: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; onLine?: (line: string) => void },
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    for (const name of ['stdout', 'stderr'] as const) {
      let pending = '';
      child[name].setEncoding('utf8');
      child[name].on('data', (chunk: string) => {
        out[name] += chunk;
        if (!options.onLine) return;
        // A progress line rewritten in place ends in \r; only whole lines are shown.
        const lines = (pending + chunk).split(/\r?\n|\r/);
        pending = lines.pop() ?? '';
        for (const line of lines) options.onLine(line);
      });
      child[name].on('end', () => {
        if (pending !== '' && options.onLine) options.onLine(pending);
      });
    }
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, ...out }));
  });
}

/** What a step failing says: the message, with the command's output already on screen. */
export class StepFailed extends Error {}

/** The narrator: headed steps, commands shown as `$ …` before their output, what to notice. */
export class Narrator {
  readonly #write: (text: string) => void;
  readonly #p: Paint;
  constructor(write: (text: string) => void, p: Paint) {
    this.#write = write;
    this.#p = p;
  }
  title(text: string): void {
    this.#write(`${this.#p.bold(text)}\n`);
  }
  step(index: number, total: number, title: string): void {
    this.#write(`\n${this.#p.step(`── Step ${index}/${total}: ${title} ──`)}\n`);
  }
  say(...lines: string[]): void {
    for (const line of lines) this.#write(`  ${line}\n`);
  }
  command(shown: string): void {
    this.#write(`  ${this.#p.dim('$')} ${this.#p.command(shown)}\n`);
  }
  output(line: string): void {
    this.#write(line === '' ? '\n' : `    ${line}\n`);
  }
  notice(...lines: string[]): void {
    lines.forEach((line, i) =>
      this.#write(`  ${this.#p.notice(i === 0 ? `→ ${line}` : `  ${line}`)}\n`),
    );
  }
  done(seconds: number): void {
    this.#write(`  ${this.#p.good('✓')} ${this.#p.dim(`${seconds.toFixed(1)} s`)}\n`);
  }
}

/** The sandbox's shell: shown commands (narrated and streamed) and quiet ones (checks). */
export class Shell {
  readonly cwd: string;
  readonly #narrator: Narrator;
  readonly #env = childEnvironment();
  constructor(cwd: string, narrator: Narrator) {
    this.cwd = cwd;
    this.#narrator = narrator;
  }

  /** Shows `$ <shown>`, runs the command with its output streamed, rejects unless it exits 0. */
  async shown(
    shown: string,
    file: string,
    args: readonly string[],
    cwd = this.cwd,
  ): Promise<string> {
    this.#narrator.command(shown);
    const result = await runChild(file, args, {
      cwd,
      env: this.#env,
      onLine: (line) => this.#narrator.output(line),
    });
    if (result.code !== 0) {
      throw new StepFailed(
        `\`${shown}\` ${result.code === null ? `was killed by ${String(result.signal)}` : `exited with code ${result.code}`}`,
      );
    }
    return result.stdout;
  }

  /** Runs a command without showing it; rejects with its error output unless it exits 0. */
  async quiet(file: string, args: readonly string[], cwd = this.cwd): Promise<string> {
    const result = await runChild(file, args, { cwd, env: this.#env });
    if (result.code !== 0) {
      throw new StepFailed(
        `\`${[path.basename(file), ...args].map(shellWord).join(' ')}\` failed (code ${String(result.code)}): ${result.stderr.trim()}`,
      );
    }
    return result.stdout;
  }

  git(...args: string[]): Promise<string> {
    return this.shown(`git ${args.map(shellWord).join(' ')}`, 'git', args);
  }

  gitQuiet(...args: string[]): Promise<string> {
    return this.quiet('git', args);
  }

  /** The sandbox's own pinml: `node pipeline/bin/pinml.js`, shown as `pinml`. */
  pinml(...args: string[]): Promise<string> {
    return this.shown(`pinml ${args.map(shellWord).join(' ')}`, process.execPath, [
      path.join('pipeline', 'bin', 'pinml.js'),
      ...args,
    ]);
  }

  pinmlQuiet(...args: string[]): Promise<string> {
    return this.quiet(process.execPath, [path.join('pipeline', 'bin', 'pinml.js'), ...args]);
  }
}

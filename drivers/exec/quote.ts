/**
 * The one place a shell string is built. SSH's exec request carries a single string that the
 * remote user's login shell parses (`$SHELL -c <string>`), so an argv array has to be turned into
 * words that shell reads back exactly: every word is single-quoted, where nothing is special
 * except `'` itself, which is written as `'\''` (close, escaped quote, reopen). Quoting every word,
 * even harmless ones, means no word can be read as an assignment (`a=b`), a reserved word (`if`,
 * `!`) or an alias, and an empty string stays an argument (`''`).
 *
 * This assumes a POSIX shell (sh, dash, bash, ksh, zsh) on the remote side; csh and fish parse
 * quotes differently and are not supported as the storage hosts' login shell.
 */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) {
    throw new TypeError("quoteArgv: empty argv");
  }
  return argv.map(quoteWord).join(" ");
}

function quoteWord(word: string): string {
  // A C string ends at NUL: the remote side would silently run a shorter argument than asked.
  if (word.includes("\0")) {
    throw new TypeError(`quoteArgv: NUL byte in argument ${JSON.stringify(word)}`);
  }
  return `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * POSIX shell quoting, for every script the platform renders or runs: the word reaches the command
 * as it is, whatever it holds. A word of only characters no shell treats specially stays bare (so a
 * command reads as a person would type it); any other is single-quoted, each `'` in it written as
 * `'\''` (close the quote, an escaped quote, reopen).
 */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

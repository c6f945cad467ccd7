/** `derecho demo`: what `npm start` shows. Replaced as the runtime grows. */
export async function runDemo(_args: string[]): Promise<number> {
  process.stdout.write('derecho demo: nothing to show yet\n');
  return 0;
}

// `--name N` options of the repository's scripts: option('scale', 50) is the number after --scale, else 50.
export function numericOptions(args = process.argv.slice(2)) {
  return (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
}

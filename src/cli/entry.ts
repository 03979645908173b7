import { main } from './main.js';

// The process entry point (bundled into dist/bundle/aivault.js).
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);

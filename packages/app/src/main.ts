#!/usr/bin/env node
/** Starts the service: listens on PORT (8000), stops gracefully on SIGTERM/SIGINT. */
import { LogSettingsError } from '@guitar-backend/logger';
import { ConfigError, loadConfig } from './config.js';
import { createService } from './service.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof LogSettingsError) {
      process.stderr.write(`guitar-backend: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let service;
  try {
    service = await createService({ config });
  } catch (err) {
    if (err instanceof LogSettingsError) {
      process.stderr.write(`guitar-backend: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { app } = service;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void service.shutdown(signal).then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`guitar-backend: shutdown failed: ${String(err)}\n`);
          process.exit(1);
        },
      );
    });
  }
  const address = await app.listen({ port: config.port, host: config.host });
  process.stdout.write(`guitar-backend listening on ${address} (API docs: ${address}/docs)\n`);
}

void main();

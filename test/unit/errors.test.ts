import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ExitCode,
  errorLine,
  exitCodeOf,
  OutputError,
  SecretsInitError,
  SourceError,
  UsageError,
  ValidationError,
} from '../../shared/errors.ts';

describe('error classes', () => {
  const classes = [
    [UsageError, 'UsageError', ExitCode.usage],
    [SourceError, 'SourceError', ExitCode.source],
    [ValidationError, 'ValidationError', ExitCode.validation],
    [OutputError, 'OutputError', ExitCode.output],
  ] as const;
  for (const [Class, name, code] of classes) {
    it(`${name}: its name, exit ${code}, the cause kept, and an instance of itself only`, () => {
      const cause = new Error('inner');
      const err = new Class('reading secret "x": AccessDeniedException', { cause });
      assert.equal(err.name, name);
      assert.equal(err.exitCode, code);
      assert.equal(exitCodeOf(err), code);
      assert.equal(err.cause, cause);
      assert.equal(errorLine(err), 'reading secret "x": AccessDeniedException');
      assert.ok(err instanceof SecretsInitError && err instanceof Error);
      for (const [Other] of classes) assert.equal(err instanceof Other, Other === Class, `instanceof ${Other.name}`);
      assert.match(String(err.stack), new RegExp(`^${name}: reading secret`));
    });
  }

  it('anything else is exit 1, named by its class only', () => {
    const err = new TypeError('value hunter2 in the message');
    assert.equal(exitCodeOf(err), ExitCode.failure);
    assert.equal(
      errorLine(err),
      'internal error (TypeError); this is a bug, please report it with the command line (not the secrets)',
    );
  });
});

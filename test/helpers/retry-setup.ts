/**
 * Integration tests run real Caddy, DNS and backend processes on a shared 2-core machine, where a
 * scheduling hiccup can occasionally push a bounded wait over its limit. One retry, with the first
 * failure printed, keeps CI honest about real failures (they fail twice) without going red on noise.
 */
import { jest } from '@jest/globals';

jest.retryTimes(1, { logErrorsBeforeRetry: true });

/**
 * The client every page and service uses: the typed BFF client wired to this app's environment
 * and session.
 */
import { accessToken, recover } from './auth';
import { createClient } from './client';
import { env } from './env';

export const api = createClient({
  baseUrl: () => env().apiBase,
  appid: () => env().appid,
  session: { accessToken, recover },
});

/**
 * The customer's account at the BFF (identity module routes): profile, phone binding, logout.
 * In the main package because the user centre (core) and the identity subpackage both use it.
 */
import { api } from '../core/api';
import * as auth from '../core/auth';

export type Me = auth.Me;

/** Fetches the profile and keeps the stored copy current. */
export async function getMe(): Promise<Me> {
  const me = await api.get('/api/v1/me');
  auth.updateUser(me);
  return me;
}

/** Binds the phone from the getPhoneNumber button's code. */
export async function bindPhone(code: string): Promise<Me> {
  const me = await api.post('/api/v1/auth/phone', { body: { code } });
  auth.updateUser(me);
  return me;
}

/** Changes nickname or avatar (POST /api/v1/me: the PATCH route is out of wx.request's reach). */
export async function updateProfile(change: { nickname?: string; avatar_url?: string }): Promise<Me> {
  const me = await api.post('/api/v1/me', { body: change });
  auth.updateUser(me);
  return me;
}

/** Ends the session at the server (best effort) and forgets it here. */
export async function logout(): Promise<void> {
  try {
    await api.post('/api/v1/auth/logout');
  } catch {
    // The local session goes regardless: the customer asked to leave.
  }
  auth.markLoggedOut();
}

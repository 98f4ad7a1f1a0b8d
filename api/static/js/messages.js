// Plain words for the API's refusal codes. The API's own `detail` is used when a code is not listed here
// (it is written for people too), so a new server-side code still reads sensibly.
import { ApiError } from "./api.js";
import { h } from "./dom.js";

const MESSAGES = {
  // voting
  already_voted_today: "You have already voted for this song today. You can vote for it again tomorrow.",
  daily_limit_reached: "You have used all your votes for today in this contest. Come back tomorrow.",
  voting_closed: "Voting is not open in this contest right now.",
  country_not_eligible: "Votes from your country are not accepted in this contest.",
  country_unknown:
    "We could not tell which country you are voting from, and this contest only accepts votes from some countries.",
  email_not_verified: "This contest only accepts votes from accounts with a verified email address.",
  account_too_new: "Your account is too new to vote in this contest.",
  song_not_votable: "This song is not open for votes.",
  song_not_found: "This song is no longer in the contest.",
  client_address_unknown: "The server could not tell your network address, so it cannot record a vote.",
  leaderboard_hidden: "The leaderboard of this contest is hidden until voting ends.",
  // votes afterwards
  already_retracted: "You have already taken this vote back.",
  retraction_window_passed: "It is too late to take this vote back.",
  vote_not_found: "This vote was not found among yours.",
  already_appealed: "You already appealed this vote. A moderator will decide.",
  vote_not_held: "Only a vote held for review can be appealed.",
  note_required: "Write a short note saying why first.",
  // accounts
  not_authenticated: "You need to log in first.",
  invalid_credentials: "Wrong email/username or password.",
  account_locked: "Too many failed logins for this account: wait a little before the next try.",
  login_throttled: "Too many failed logins from your network: wait a little before the next try.",
  account_banned: "This account is banned.",
  username_taken: "This username is taken: choose another one.",
  wrong_password: "That is not your current password.",
  same_email: "That is already your address.",
  email_taken: "That address belongs to another account now, so your account keeps its address.",
  link_invalid: "This link is not valid. Open the newest link we mailed you, as a whole.",
  link_used: "This link was already used, or a newer one was sent since. Ask for a new one.",
  link_expired: "This link has expired. Ask for a new one.",
  missing_role: "Your account is not allowed to do this.",
  // songs
  submissions_closed: "This contest is not taking submissions now.",
  entry_limit_reached: "You have reached this contest's limit of entries.",
  file_too_large: "The file is larger than this contest allows.",
  empty_file: "The file is empty.",
  voting_started: "Voting has opened: songs can no longer be withdrawn.",
  // generic
  rate_limited: "Too many requests. Wait a moment and try again.",
  csrf_failed: "Your session's security token expired. Reload the page and try again.",
  contest_not_found: "There is no such contest.",
  case_not_found: "This case is no longer open (someone may have decided it already).",
};

// Codes whose server detail adds facts worth showing (how long to wait, which country, which field).
const WITH_DETAIL = new Set([
  "account_too_new",
  "country_not_eligible",
  "submissions_closed",
  "entry_limit_reached",
  "file_too_large",
  "weak_password",
  "invalid_username",
  "invalid_email",
  "invalid_metadata",
  "validation_error",
  "account_locked",
  "login_throttled",
]);

/** A sentence for an error thrown by api(). */
export function explain(error) {
  if (!(error instanceof ApiError)) return "The server could not be reached. Check your connection and try again.";
  const base = MESSAGES[error.code];
  let text = base || sentence(error.detail) || `Something went wrong (${error.code}).`;
  if (base && WITH_DETAIL.has(error.code) && error.detail) text += ` (${error.detail})`;
  if (error.code === "validation_error" && Array.isArray(error.extra)) {
    // Litestar lists each invalid field: say which ones.
    const fields = error.extra.map((item) => [item.key, item.message].filter(Boolean).join(": "));
    if (fields.length) text = `Please check: ${fields.join("; ")}.`;
  }
  if (error.code === "rate_limited" && error.retryAfter) text += ` Try again in ${error.retryAfter} s.`;
  return text;
}

function sentence(detail) {
  if (!detail) return "";
  const text = detail.charAt(0).toUpperCase() + detail.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** A "log in" link that comes back to this page. */
export function loginLink(text = "Log in") {
  const next = encodeURIComponent(location.pathname + location.search);
  return h("a", { href: `/login?next=${next}` }, text);
}

export function needsLogin(error) {
  return error instanceof ApiError && (error.status === 401 || error.code === "not_authenticated");
}

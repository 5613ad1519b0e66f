/* spotify.js - the Spotify panel (issue 5). Owned by the Spotify engineer;
 * this placeholder keeps <script src="/spotify.js"> valid until it lands. */

/**
 * The leak reporter ({@link dev.soma.leak.Leaks}): every native resource Soma owns registers a
 * {@link dev.soma.leak.LeakGuard} when it is made and closes it when it is freed; one dropped while
 * still open is reported (kind, size, and in strict mode where it was allocated) and never freed
 * by the reporter. Depends on nothing else in Soma, so every layer may use it.
 */
package dev.soma.leak;

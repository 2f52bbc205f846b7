package org.stasis.plugin.event;

/**
 * An epoll registration to make inside a restored process once every descriptor is
 * back: {@code epoll_ctl(epfd, EPOLL_CTL_ADD, fd, {events, data})} in process {@code pid}.
 *
 * @param pid the process id inside the computation
 * @param epfd the epoll descriptor in that process
 * @param fd the watched descriptor in that process
 * @param events the event mask
 * @param data the user data
 */
record Registration(int pid, int epfd, int fd, int events, long data) {
}

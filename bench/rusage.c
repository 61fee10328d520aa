/* bench/rusage - run a command and print what it cost, for the benchmarks
 * that compare programs by CPU time and memory (bench/run-exporter).
 *
 * Usage: rusage COMMAND [ARG]...
 * Runs COMMAND with stdout and stderr on /dev/null, waits for it and prints
 *   "user_us U sys_us S maxrss_kib M status X"
 * from wait4(2). A Python harness cannot measure peak memory itself: the
 * child it forks carries the interpreter's resident pages until exec, and
 * the kernel keeps that high-water mark across the exec. This small
 * program's child has almost none.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: rusage COMMAND [ARG]...\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("rusage: fork");
		return 1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("rusage: wait4");
		return 1;
	}
	printf("user_us %lld sys_us %lld maxrss_kib %ld status %d\n",
	       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

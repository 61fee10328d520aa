/* weir-kafka-broker - a Kafka cluster for tests: librdkafka's mock cluster
 * (librdkafka/rdkafka_mock.h), which speaks the Kafka protocol over TCP on
 * 127.0.0.1. Debian packages no Kafka broker; kcat and any rdkafka client
 * can produce to and consume from this one.
 *
 * Usage: weir-kafka-broker [-b BROKERS] [-p PARTITIONS] [-t TOPIC]...
 *   -b N  brokers in the cluster (1..16)                       [1]
 *   -p N  partitions of each topic (1..256)                    [3]
 *   -t T  create topic T (repeatable)                          [flows]
 *
 * Prints the bootstrap list (host:port,...) on one line of stdout, then runs
 * until SIGTERM or SIGINT. Exit status 0, 1 when the cluster cannot start,
 * 2 for bad flags.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 16

static int number(const char *v, int min, int max, int *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || n < min || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

static void usage(void)
{
	fputs("usage: weir-kafka-broker [-b BROKERS] [-p PARTITIONS] [-t TOPIC]...\n", stderr);
}

int main(int argc, char **argv)
{
	const char *topics[MAX_TOPICS];
	int ntopics = 0, brokers = 1, parts = 3, opt, sig, ret = 1;
	rd_kafka_mock_cluster_t *mc = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	sigset_t sigs;
	char err[512];

	while ((opt = getopt(argc, argv, "b:p:t:h")) != -1) {
		switch (opt) {
		case 'b':
			if (number(optarg, 1, 16, &brokers))
				goto bad;
			break;
		case 'p':
			if (number(optarg, 1, 256, &parts))
				goto bad;
			break;
		case 't':
			if (ntopics == MAX_TOPICS || !*optarg)
				goto bad;
			topics[ntopics++] = optarg;
			break;
		default:
			goto bad;
		}
	}
	if (optind < argc)
		goto bad;
	if (!ntopics)
		topics[ntopics++] = "flows";

	/* Taken with sigwait below, never by a handler. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	/* The mock cluster lives inside a client handle, which is otherwise
	 * idle: no bootstrap.servers, nothing produced. */
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "weir-kafka-broker: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "weir-kafka-broker: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "weir-kafka-broker: cannot start a mock cluster\n");
		goto destroy_rk;
	}
	for (int i = 0; i < ntopics; i++) {
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topics[i], parts,
								   brokers < 3 ? brokers : 3);

		if (e) {
			fprintf(stderr, "weir-kafka-broker: topic %s: %s\n", topics[i],
				rd_kafka_err2str(e));
			goto destroy_mc;
		}
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	if (fflush(stdout))
		goto destroy_mc;
	while (sigwait(&sigs, &sig) != 0)
		;
	ret = 0;
destroy_mc:
	rd_kafka_mock_cluster_destroy(mc);
destroy_rk:
	rd_kafka_destroy(rk);
	return ret;
bad:
	usage();
	return 2;
}

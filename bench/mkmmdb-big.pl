#!/usr/bin/perl
# bench/mkmmdb-big.pl - a City-shaped MaxMind DB of many IPv4 networks, for
# bench/enrich_mmdb (the load of a large database, and its IPv4 table).
#
#   perl bench/mkmmdb-big.pl OUT.mmdb NETWORKS RECORDS
#
# NETWORKS /24s from 1.0.0.0 up (under ::/96, aliased as MaxMind's are),
# pointing to RECORDS distinct records of a country code, a city name and
# geoname id, and a location. Debian: libmaxmind-db-writer-perl. 2,000,000
# networks take about a minute.
use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

my ($out, $n, $r) = @ARGV;
die "usage: $0 OUT.mmdb NETWORKS RECORDS\n" unless defined $r && $n > 0 && $r > 0;

my %types = (
	country    => 'map',
	iso_code   => 'utf8_string',
	city       => 'map',
	names      => 'map',
	en         => 'utf8_string',
	geoname_id => 'uint32',
	location   => 'map',
	latitude   => 'double',
	longitude  => 'double',
);
my $t = MaxMind::DB::Writer::Tree->new(
	ip_version               => 6,
	record_size              => 28,
	database_type            => 'weir-bench-City',
	languages                => ['en'],
	description              => { en => 'weir benchmark database' },
	map_key_type_callback    => sub { $types{ $_[0] } },
	alias_ipv6_to_ipv4       => 1,
	remove_reserved_networks => 0,
);
for my $i (0 .. $n - 1) {
	my $k = ($i * 7919) % $r;
	my $ip = sprintf('%d.%d.%d.0', 1 + int($i / 65536) % 223, int($i / 256) % 256, $i % 256);

	$t->insert_network("::$ip/120", {
		country  => { iso_code => sprintf('C%d', $k % 200) },
		city     => { geoname_id => $k, names => { en => "City $k" } },
		location => { latitude => ($k % 180) - 90 + 0.5, longitude => ($k % 360) - 180 + 0.25 },
	});
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$t->write_tree($fh);
close $fh or die "$out: $!\n";

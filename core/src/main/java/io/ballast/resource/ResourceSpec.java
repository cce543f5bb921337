package io.ballast.resource;

/**
 * What Ballast reads of a resource, typed and checked: the one reading of APISIX's JSON shapes,
 * which the Admin API, the standalone file and the data plane share. Fields Ballast does not read
 * stay in {@link Resource#value()} only, so a configuration round-trips unchanged.
 */
public sealed interface ResourceSpec
    permits RouteSpec,
        ServiceSpec,
        UpstreamSpec,
        ConsumerSpec,
        SslSpec,
        PluginConfigSpec,
        GlobalRuleSpec,
        PluginMetadataSpec {}

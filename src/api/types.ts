/**
 * The Engine API (v1.41) shapes sdocker sends and reads. Only what we use is typed;
 * names and nesting are the API's own, so a body can be sent as it is.
 */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[];
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
}

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface DeviceRequest {
  Driver?: string;
  Count?: number;
  DeviceIDs?: string[];
  Capabilities?: string[][];
  Options?: Record<string, string>;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface ThrottleDevice {
  Path: string;
  Rate: number;
}

export interface WeightDevice {
  Path: string;
  Weight: number;
}

export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs' | 'npipe';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string>;
    Subpath?: string;
    DriverConfig?: { Name?: string; Options?: Record<string, string> };
  };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface HostConfig {
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: { Type: string; Config: Record<string, string> };
  NetworkMode?: string;
  PortBindings?: Record<string, PortBinding[]>;
  RestartPolicy?: { Name: string; MaximumRetryCount: number };
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  Mounts?: MountSpec[];
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  CgroupnsMode?: string;
  Dns?: string[];
  DnsOptions?: string[];
  DnsSearch?: string[];
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Cgroup?: string;
  Links?: string[] | null;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  StorageOpt?: Record<string, string>;
  Tmpfs?: Record<string, string>;
  UTSMode?: string;
  UsernsMode?: string;
  ShmSize?: number;
  Sysctls?: Record<string, string>;
  Runtime?: string;
  Isolation?: string;
  MaskedPaths?: string[];
  ReadonlyPaths?: string[];
  Init?: boolean;
  // Resources
  CpuShares?: number;
  Memory?: number;
  NanoCpus?: number;
  CgroupParent?: string;
  BlkioWeight?: number;
  BlkioWeightDevice?: WeightDevice[];
  BlkioDeviceReadBps?: ThrottleDevice[];
  BlkioDeviceWriteBps?: ThrottleDevice[];
  BlkioDeviceReadIOps?: ThrottleDevice[];
  BlkioDeviceWriteIOps?: ThrottleDevice[];
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: DeviceMapping[];
  DeviceCgroupRules?: string[] | null;
  DeviceRequests?: DeviceRequest[] | null;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  OomKillDisable?: boolean;
  PidsLimit?: number | null;
  Ulimits?: Ulimit[];
  CpuCount?: number;
  CpuPercent?: number;
  IOMaximumIOps?: number;
  IOMaximumBandwidth?: number;
  KernelMemory?: number;
  ConsoleSize?: [number, number];
}

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] };
  Links?: string[];
  Aliases?: string[];
  MacAddress?: string;
  DriverOpts?: Record<string, string>;
}

/** The body of POST /containers/create. */
export interface CreateBody extends ContainerConfig {
  HostConfig: HostConfig;
  NetworkingConfig?: { EndpointsConfig: Record<string, EndpointSettings> };
}

/** The parts of GET /info sdocker reads. */
export interface EngineInfo {
  ServerVersion?: string;
  SecurityOptions?: string[];
  Runtimes?: Record<string, unknown>;
  DefaultRuntime?: string;
  CgroupVersion?: string;
  CgroupDriver?: string;
  OSType?: string;
  KernelVersion?: string;
  DockerRootDir?: string;
  NCPU?: number;
  LoggingDriver?: string;
}

/** The parts of an image's inspect sdocker reads (GET /images/{name}/json). */
export interface ImageInspect {
  Id: string;
  RepoTags?: string[];
  RepoDigests?: string[];
  Config?: {
    User?: string;
    ExposedPorts?: Record<string, unknown>;
    Volumes?: Record<string, unknown> | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Env?: string[];
    Labels?: Record<string, string> | null;
    Healthcheck?: HealthConfig | null;
  };
}

/** A mount as GET /containers/{id}/json lists it: what the engine really mounts. */
export interface InspectMount {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  RW?: boolean;
}

/** GET /containers/{id}/json: the parts the policy and the client read. */
export interface ContainerInspect {
  Id: string;
  Name?: string;
  /** The image id the container was made from. */
  Image?: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  Mounts?: InspectMount[] | null;
}

// The demo backends of the imaging examples: DICOM (DCMTK storescp), HL7 v2 over MLLP,
// HTTP/HTTPS viewer endpoints and generic TCP services, the three examples' address plans,
// and a supervisor that starts a whole plan. See README.md.
export { BackendError, backendErrorCatalogue, type BackendErrorCode } from './errors.js';
export { Listener, ListeningService, hostPort, type BackendKind, type BackendService, type ServiceIdentity } from './service.js';
export { DicomServer, type DicomServerOptions } from './dicom/storescp-server.js';
export { generateStudy, newUid, phantomSlice, CT_IMAGE_STORAGE, EXPLICIT_VR_LITTLE_ENDIAN, type GeneratedInstance, type GeneratedStudy, type StudyOptions } from './dicom/study-generator.js';
export { dicomEcho, dicomStore, type DicomTarget, type EchoResult, type StoreResult } from './dicom/scu.js';
export { assertStudyReceived, compareReceivedStudy, type InstanceCheck, type StudyComparison } from './dicom/verify.js';
export { parsePart10Meta, readPart10Meta, type Part10Meta } from './dicom/part10.js';
export { Hl7Server, type Hl7ServerOptions, type ReceivedHl7Message } from './hl7/mllp-server.js';
export { Hl7Client, sendHl7, type Hl7Target } from './hl7/mllp-client.js';
export { MllpDecoder, encodeFrame, VT, FS, CR } from './hl7/mllp-framing.js';
export { buildAck, buildTestMessage, parseAck, parseHeader, type Hl7Ack, type Hl7Header } from './hl7/message.js';
export { ViewerServer, parseCookies, type ViewerAnswer, type ViewerServerOptions } from './http/viewer-server.js';
export { makeServerCertificate, type ServerCertificate } from './http/certificate.js';
export { patternBytes, patternStream } from './http/pattern.js';
export { TcpEchoServer, tcpBanner } from './tcp/echo-server.js';
export * from './profiles/index.js';
export { startBackends, formatTable, type RunningBackends, type RunningHost, type RunningService, type StartBackendsOptions } from './supervisor.js';

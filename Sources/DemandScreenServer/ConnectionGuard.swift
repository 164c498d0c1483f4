import DemandScreenWire
import NIOCore
import NIOTLS

/// Guards one connection against a client that is slow on purpose or broken. It sits between TLS
/// and the frame codec, where it sees the plaintext bytes of requests and the encoded answers:
///
/// - a connection refused by the connection limits is closed as soon as it is active;
/// - the TLS handshake must complete within `handshakeTimeout`;
/// - a frame whose first byte has arrived must be whole within `frameTimeout` (time during which
///   the server itself is not reading does not count);
/// - a connection with no call in flight (every request frame answered) and no frame in either
///   direction for `idleTimeout` is closed;
/// - while the channel's unsent bytes are above its high-water mark (`maxBufferedResponseBytes`)
///   the guard holds back reads, so the server stops taking requests from a client that does not
///   read its answers. It tells the connection's `AnswerBudget` when each answer has been
///   written to the socket; while more than the bound waits, the read loop admits no new call.
///   A connection that stays so (or unwritable) for `idleTimeout` is closed.
final class ConnectionGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Settings {
        var handshakeTimeout: TimeAmount
        var idleTimeout: TimeAmount
        var frameTimeout: TimeAmount
        /// False for plaintext: there is no handshake to wait for.
        var expectsHandshake: Bool

        /// How often the frame, idle and slow-reader clocks are checked.
        var tick: TimeAmount {
            let shortest = min(idleTimeout, frameTimeout).nanoseconds / 4
            return .nanoseconds(min(max(shortest, 10_000_000), 1_000_000_000))
        }
    }

    private let settings: Settings
    private let accounting: LimitAccounting
    private let budget: AnswerBudget
    private let refused: Bool
    private var started = false
    private var closing = false
    private var handshakeTimer: Scheduled<Void>?
    private var ticker: RepeatedTask?

    // The frame being received: its header bytes so far, then how much payload is still to come.
    private var header: [UInt8] = []
    private var payloadRemaining = 0
    private var frameStarted: NIODeadline?
    private var framePaused: TimeAmount = .nanoseconds(0)
    /// Since when no read has been asked for (the server is not reading); nil while it reads.
    private var notReadingSince: NIODeadline?

    private var framesIn = 0
    private var answersOut = 0
    private var lastFrame: NIODeadline = .now()

    /// Since when the client has left its answers unread beyond the bound.
    private var stalledSince: NIODeadline?
    private var readHeldBack = false
    /// The most unsent bytes this connection's channel has held.
    private var peakBuffered = 0

    init(settings: Settings, accounting: LimitAccounting, budget: AnswerBudget, refused: Bool) {
        self.settings = settings
        self.accounting = accounting
        self.budget = budget
        self.refused = refused
        header.reserveCapacity(FrameFormat.headerLength)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        start(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimers()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimers()
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        if refused {
            closing = true
            context.close(promise: nil)
            return
        }
        if settings.expectsHandshake {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            handshakeTimer = context.eventLoop.scheduleTask(in: settings.handshakeTimeout) {
                let (handler, context) = loopBound.value
                handler.close(context: context, .handshakeTimeout)
            }
        } else {
            handshakeCompleted(context: context)
        }
    }

    private func handshakeCompleted(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        lastFrame = .now()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: settings.tick, delay: settings.tick) { _ in
            let (handler, context) = loopBound.value
            handler.check(context: context)
        }
    }

    private func stopTimers() {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        ticker?.cancel()
        ticker = nil
    }

    private func close(context: ChannelHandlerContext, _ reason: ConnectionClosure) {
        guard !closing else { return }
        closing = true
        stopTimers()
        accounting.closed(reason)
        context.close(promise: nil)
    }

    private func check(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        if let frameStarted {
            let paused = framePaused + (notReadingSince.map { now - max($0, frameStarted) } ?? .nanoseconds(0))
            if now - frameStarted - paused > settings.frameTimeout {
                close(context: context, .frameTimeout)
                return
            }
        }
        if !context.channel.isWritable || budget.isOverBound {
            if let stalledSince {
                if now - stalledSince > settings.idleTimeout {
                    close(context: context, .slowReader)
                    return
                }
            } else {
                stalledSince = now
                accounting.readsPaused()
            }
        } else {
            stalledSince = nil
        }
        if framesIn == answersOut, frameStarted == nil, now - lastFrame > settings.idleTimeout {
            close(context: context, .idleTimeout)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent, ticker == nil, !closing {
            handshakeCompleted(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let bytes = buffer.readableBytesView
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if payloadRemaining > 0 {
                let taken = min(payloadRemaining, bytes.endIndex - index)
                payloadRemaining -= taken
                index += taken
                if payloadRemaining == 0 { frameCompleted() }
                continue
            }
            if header.isEmpty {
                frameStarted = .now()
                framePaused = .nanoseconds(0)
            }
            header.append(bytes[index])
            index += 1
            if header.count == FrameFormat.headerLength {
                payloadRemaining = Int(header[1]) << 24 | Int(header[2]) << 16 | Int(header[3]) << 8 | Int(header[4])
                header.removeAll(keepingCapacity: true)
                if payloadRemaining == 0 { frameCompleted() }
            }
        }
        context.fireChannelRead(data)
    }

    private func frameCompleted() {
        framesIn += 1
        frameStarted = nil
        lastFrame = .now()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        notReadingSince = .now()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        guard context.channel.isWritable else {
            readHeldBack = true
            return
        }
        if let since = notReadingSince {
            if let frameStarted { framePaused = framePaused + (NIODeadline.now() - max(since, frameStarted)) }
            notReadingSince = nil
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        answersOut += 1
        lastFrame = .now()
        // Each write is one encoded answer; it leaves the budget once the socket has taken it.
        let bytes = unwrapOutboundIn(data).readableBytes
        let written = promise ?? context.eventLoop.makePromise()
        let budget = self.budget
        written.futureResult.whenComplete { _ in budget.written(bytes) }
        context.write(data, promise: written)
    }

    func flush(context: ChannelHandlerContext) {
        context.flush()
        if let buffered = try? context.channel.syncOptions?.getOption(.bufferedWritableBytes), buffered > peakBuffered {
            peakBuffered = buffered
            accounting.bufferedResponseBytes(buffered)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readHeldBack {
            readHeldBack = false
            read(context: context)
        }
        context.fireChannelWritabilityChanged()
    }
}

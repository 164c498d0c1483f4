import DemandScreenAPI
import ScreeningEngine
import Testing

@Suite struct DetectorTests {
    static let engine = ScreeningEngine(policy: .builtIn())

    func signals(_ line: String, demands: [(DemandKind, Int64?)] = []) -> Set<SignalKind> {
        Set(Self.engine.screen(record([line], demands: demands)).signals.map(\.kind))
    }

    @Test(arguments: [
        ("お前殺すぞ", SignalKind.signalThreatViolence),
        ("ｺﾛｽぞ、わかってんのか", .signalThreatViolence),
        ("こ ろ す ぞ", .signalThreatViolence),
        ("ころしたるからな", .signalThreatViolence),
        ("しばくぞーーー", .signalThreatViolence),
        ("なめとったらいてまうぞ", .signalThreatViolence),
        ("I know where you live.", .signalThreatViolence),
        ("I'LL KILL YOU", .signalThreatViolence),
        ("ill kill u", .signalThreatViolence),
        ("im not leaving until you pay", .signalCoercion),
        ("返金しないならネットに晒すぞ", .signalThreatExposure),
        ("ＳＮＳで拡散してやるからな", .signalThreatExposure),
        ("Everyone on Twitter will see your name.", .signalThreatExposure),
        ("今すぐ土下座しろ", .signalCoercion),
        ("今すぐ来い!", .signalCoercion),
        ("念書を書け", .signalCoercion),
        ("責任者を出せって言ってるだろ", .signalCoercion),
        ("I'm not leaving until I get my money.", .signalCoercion),
        ("お前はバカか", .signalAbusiveLanguage),
        ("You are an incompetent idiot.", .signalAbusiveLanguage),
        ("一生タダにしろ", .signalExcessiveDemand),
    ])
    func raises(line: String, expected: SignalKind) {
        #expect(signals(line).contains(expected), "\(line) should raise \(expected.protoName)")
    }

    @Test func unclearPurposeOnlyWithoutAConcreteDemand() {
        #expect(signals("誠意を見せろ。どうしてくれるんだ").contains(.signalUnclearPurpose))
        #expect(!signals("誠意を見せろ。交換してくれ", demands: [(.demandReplacement, nil)]).contains(.signalUnclearPurpose))
        #expect(signals("何とかしろ", demands: [(.demandUnspecified, nil)]).contains(.signalUnclearPurpose))
    }

    @Test(arguments: [
        "殺虫剤がまったく効かないんです",
        "虫を殺す薬のはずなのに",
        "熱くて死ぬかと思った",
        "This could kill a child, the lid comes off.",
        "I'm dying to get this fixed.",
        "店員さんに「殺すぞ」って言われたんです",
        "消費者センターに相談します",
        "弁護士に相談します",
        "I will write an honest review about this.",
        "バカ高い送料に驚きました",
        "責任者の方とお話ししたいです",
        "ふざけるな、本当に腹が立つ。最悪だ",
        "買ったばかりなのにもう壊れた",
        "食べかすがついたままの皿が出てきた",
        "糸くずが入っていました",
    ])
    func legitimateSpeechRaisesNothing(line: String) {
        let found = signals(line)
        #expect(found.isEmpty, "\(line) raised \(found.map(\.protoName))")
    }

    @Test func agentWordsNeverRaiseSignals() {
        let result = Self.engine.screen(record(["届いた商品が壊れていました"], agent: ["殺すぞと言われても困ります"]))
        #expect(result.signals.isEmpty)
    }

    @Test func evidencePointsAtTheOriginalText() throws {
        let text = "あのさ、ｺ ﾛ ｽぞーー!"
        let result = Self.engine.screen(record(["普通の話です", text]))
        let threat = try #require(result.signals.first { $0.kind == .signalThreatViolence })
        let evidence = try #require(threat.evidence.first)
        #expect(evidence.utteranceIndex == 1)
        let scalars = Array(text.unicodeScalars)
        let excerpt = String(String.UnicodeScalarView(scalars[Int(evidence.start)..<Int(evidence.end)]))
        #expect(excerpt == evidence.excerpt)
        #expect(excerpt == "ｺ ﾛ ｽぞ")
    }

    @Test func aThreatOutsideAQuotationCountsWhereItStands() throws {
        // The quoted 殺すぞ is someone else's words; the one after the quotation is the customer's.
        let text = "店員に「殺すぞ」って言われた。ふざけるな、殺すぞ"
        let result = Self.engine.screen(record([text]))
        let threat = try #require(result.signals.first { $0.kind == .signalThreatViolence })
        #expect(threat.evidence.count == 1)
        let evidence = try #require(threat.evidence.first)
        let scalars = Array(text.unicodeScalars)
        #expect(Int(evidence.start) == scalars.count - 3)
        #expect(evidence.excerpt == "殺すぞ")
    }

    /// Phrasings the old phrase lists missed (from the judgment issue): conjugated and kana forms,
    /// threats with no listed phrase, dialect and slang, a threat split over two utterances.
    @Test(arguments: [
        (["口コミに店の名前を書き込んで広めてやるからな"], SignalKind.signalThreatExposure),
        (["I know where your manager parks his car"], .signalThreatViolence),
        (["お前の顔、覚えたからな。背中に気をつけな"], .signalThreatViolence),
        (["駐車場で待ってるわ", "バールでも持っていくか"], .signalThreatViolence),
        (["次会ったらボコるぞ"], .signalThreatViolence),
        (["半殺しにしたる"], .signalThreatViolence),
        (["you won't live to see that refund"], .signalThreatViolence),
        (["I'll k1ll you"], .signalThreatViolence),
        (["殺すぞ。なんてね、冗談だよ"], .signalThreatViolence),
        (["Unless I get my money back today, the recording goes up on YouTube with your name on it."], .signalThreatExposure),
        (["I'm not hanging up until you refund me"], .signalCoercion),
        (["You people are useless idiots"], .signalAbusiveLanguage),
        (["今日から30分おきに電話するからな"], .signalCoercion),
        (["すぐ来て一筆書けや"], .signalCoercion),
        (["返金しないなら今から首を吊る。"], .signalCoercion),
        (["Pay up or I'll bury your firm in filings for a decade."], .signalCoercion),
        (["You'd better be careful walking alone in that parking garage."], .signalThreatViolence),
        (["I'd hate for my brothers to come down there and ask around."], .signalThreatViolence),
        (["お前ら全員死んでもらうぞ"], .signalThreatViolence),
        (["I'll be standing at your front desk every single morning until it's fixed."], .signalCoercion),
        (["I'll keep ringing the store, the head office and the regional manager until somebody refunds me."], .signalCoercion),
        (["返金するまでここからどかんき。"], .signalCoercion),
        (["If I were you I'd be looking over my shoulder tonight."], .signalThreatViolence),
        (["あんた、鏡見てこいや。"], .signalAbusiveLanguage),
        (["I don't care what the customers' forum says. I know where you live."], .signalThreatViolence),
        (["I'm telling you, \"I will burn your store down\" and I mean it."], .signalThreatViolence),
        (["I will shoot you at the event tomorrow."], .signalThreatViolence),
        (["Your warehouse? I'm going to bomb it."], .signalThreatViolence),
        (["バットを持った男が十人、店に行くぞ。"], .signalThreatViolence),
        (["そっちの社長さんの家がどこにあるかも、お孫さんがどこの幼稚園に通っとるかも、みな承知しとるんや。"], .signalThreatViolence),
        (["I'd hate for anything to happen to you on your way home tonight."], .signalThreatViolence),
        (["I've done time for less than this."], .signalThreatViolence),
        (["I know which exit your staff use after closing."], .signalThreatViolence),
        (["Pepper spray won't help you, by the way."], .signalThreatViolence),
        (["週刊誌の編集部に、このやり取りを送る準備はできています。"], .signalThreatExposure),
        (["Refund me or you'll be a meme by tonight."], .signalThreatExposure),
        (["明日から毎日この店の前に立っとるでね。開店から閉店まで。"], .signalCoercion),
        (["振り込まないなら、もう私どうなってもいいので。"], .signalCoercion),
        (["何年でも裁判で争う所存です。"], .signalCoercion),
        (["I brought a bike lock. I'll lock myself to the front railing if I have to."], .signalCoercion),
        (["They'll not leave until I say so."], .signalCoercion),
        (["返金するまで毎日電話するからな。"], .signalCoercion),
        (["I'll keep calling every day until you refund me."], .signalCoercion),
        (["お金が戻るまで毎日電話するからな。"], .signalCoercion),
        (["I won't leave until you open the safe and pay me."], .signalCoercion),
        (["I know where you live, down the street from me, and I'll be waiting for you."], .signalThreatViolence),
        (["Y'all better fix this truck before I come down there and fix your face."], .signalThreatViolence),
        (["凸って物理でわからせに行くから。"], .signalThreatViolence),
        (["減らしてくれるまでここ動かんけんね"], .signalCoercion),
        (["減額の紙もらうまでは帰らん"], .signalCoercion),
        (["返すまで、ここのカウンターの前から動かないからな"], .signalCoercion),
        (["じゃあ振り込まれるまで毎日かけるわ。"], .signalCoercion),
        (["1時間過ぎたら1分ごとに電話しますから。"], .signalCoercion),
        (["We're not leaving this table until he comes out."], .signalCoercion),
        (["waive it or i take the whole bottle tonight."], .signalCoercion),
        (["If nobody's here today I'll do something to myself, and it'll be on you."], .signalCoercion),
        (["Every Saturday I'll be stood outside your showroom with a board till I've got the money."], .signalCoercion),
        (["I'll name you in the claim, I'll go after your wages, your flat, your car."], .signalCoercion),
        (["今月の家賃をタダにするなら、訴訟はやめてあげてもいいですよ。"], .signalCoercion),
        (["I'll ring every branch number you've got, every ten minutes until somebody comes"], .signalCoercion),
        (["灯油持ってそっちに伺ったほうがよろしいですか"], .signalThreatViolence),
        (["払わんのなら、ここで死んじゃるけぇ。"], .signalCoercion),
        (["じゃあ首吊ってやる。"], .signalCoercion),
        (["ほな、毎日電話するわ。一年分タダになるまで、ほんまにやるで。"], .signalCoercion),
        (["こっちは毎日電話して全額返すまでやったるで。"], .signalCoercion),
        (["今日来なかったら、明日から毎日そっちの営業所に電話しますよ。"], .signalCoercion),
        (["なら、書いてもらうまでこのカウンターの前にいるから。"], .signalCoercion),
        (["じゃあ、ここのフロントの前から動かないから。"], .signalCoercion),
        (["明日の17時までに50万円をお支払いいただければ、訴訟を含む一切の法的措置は取りません。"], .signalCoercion),
        (["金出すか、わしがここで死ぬか、どっちかじゃ。"], .signalCoercion),
        (["そちらの若い女の子が怪我しても知りませんよ。"], .signalThreatViolence),
        (["あのプランナー、一回シメなあかんな。"], .signalThreatViolence),
        (["swear to god ill come in there and put someone through the glass"], .signalThreatViolence),
        (["サポートの人、ポンコツすぎませんか。"], .signalAbusiveLanguage),
        (["さっき送りましたよね?日本語読めないんですか?"], .signalAbusiveLanguage),
        (["Boy, you're dumber'n a box of rocks, you know that?"], .signalAbusiveLanguage),
        (["Honey, I know you're not the sharpest tool in the shed."], .signalAbusiveLanguage),
        (["A trained chimp could do your job."], .signalAbusiveLanguage),
        (["Go back to Mexico and take your drivers with you."], .signalAbusiveLanguage),
        (["Eres un pendejo, you hear me?"], .signalAbusiveLanguage),
        (["I'm not leaving until you refund me. Stalling gets you nowhere."], .signalCoercion),
        (["I'm not leaving this counter until I get my refund, I don't know where else to go with this."], .signalCoercion),
        (["I'm not budging on this until you pay me, I'm staying right here."], .signalCoercion),
        (["I'll call your manager at home every night until there's someone fired for this."], .signalCoercion),
        (["Tell your manager somebody might set her house on fire one of these nights."], .signalThreatViolence),
        (["店の商品ぐちゃぐちゃにしてやるからな"], .signalThreatViolence),
        (
            [
                "I know the footpath behind the Hanley building that Professor Hale takes after his evening lab.",
                "It is badly lit. I would advise him to vary his route.",
            ], .signalThreatViolence
        ),
        (["返金するという回答をもらうまで切りませんから。"], .signalCoercion),
        (["I'm not hanging up until someone tells me the refund has gone through."], .signalCoercion),
        (["Someone threw a rock through your window. Next time it'll be your head."], .signalThreatViolence),
        (["I've got mates who aren't as patient as me, d'you know what I mean?"], .signalThreatViolence),
        (["うちの甥っ子ね、ちょっとそっち方面の仕事してる子でさ。話つけに行かせようかって、本人が言ってんのよ。"], .signalThreatViolence),
        (["あたしは止めてるんだけどね、いつまで止められるかしら。"], .signalThreatViolence),
        (["この子がもし死んだら、あなたの家族も同じ目に遭えばいいのよ。"], .signalThreatViolence),
        (["登校班の集合場所、公園の前のところですよね。私もあの道、毎朝通るんですよ。"], .signalThreatViolence),
        (["わしも若い頃はいろいろやっとったけぇ、あんまり人を怒らせん方がええよ。"], .signalThreatViolence),
        (["でないとな、町内会の回覧板に、お宅の名前入れて『こういうとこや』て書いて回すで。"], .signalThreatExposure),
        (["学年の保護者のLINEグループ、百二十人ほどいるんですけどね。今回の件、私が見聞きしたことを、そのまま皆さんに共有しようと思っています。"], .signalThreatExposure),
        (["ok so ur moderator is Vex right. would hate for him to get a visitor."], .signalThreatViolence),
        (["They'd be made up to meet you after you lock up tonight."], .signalThreatViolence),
        (["He'll be back round Creggan way some day, and he mightn't find it as easy to leave."], .signalThreatViolence),
        (["we'll have a proper chat, just me and him, in the vestibule, no cameras."], .signalThreatViolence),
        (["You ever wonder what happens to gate agents who ruin a man's daughter's wedding?"], .signalThreatViolence),
        (["I'd also hate for anything to happen to Mrs Holloway's little dog."], .signalThreatViolence),
        (["I do hope Ms. Pruitt is careful on those back roads out past the reservoir."], .signalThreatViolence),
        (["I know his van, so I do."], .signalThreatViolence),
        (["Anything could happen in a park that early, and who'd see?"], .signalThreatViolence),
        (["You know I hunt, right? Been shooting since I was nine. Don't miss."], .signalThreatViolence),
        (["I know which car park Mr Davies uses, and I know the path through the woods he takes to it."], .signalThreatViolence),
        (["You'd want to get home to them safe every night."], .signalThreatViolence),
        (["i can make a video about your salon 👀 or you can refund the $220"], .signalThreatExposure),
        (["i'm filming tonight either way unless u change ur mind"], .signalThreatExposure),
        (["Refund me. My brothers'll sort him out, and they know where he drinks on Fridays."], .signalThreatViolence),
        (["I served two tours. I still know how to use a rifle, and I've got one in the closet."], .signalThreatViolence),
        (
            ["I'm on first-name terms with a journalist at the Daily Mail. Five thousand pounds, or it's a double-page spread."],
            .signalThreatExposure
        ),
        (
            ["A thousand dollar gift card. Otherwise I call my buddy at Channel 8 and he does a little piece on y'all's kitchen."],
            .signalThreatExposure
        ),
        (["私、中日新聞の社会部に大学の同期がいるんです。見舞金百万円。ダメなら同期に電話します。"], .signalThreatExposure),
        (["A full December refund and a free January, and I'll leave all of that alone."], .signalThreatExposure),
        (["A year free and I'll keep it to myself."], .signalThreatExposure),
        (["he's gonna learn real fast what happens when you mess with my money"], .signalThreatViolence),
        (["Someone should tell her to be careful who she's rude to."], .signalThreatViolence),
        (["帰りに会えたら、直接お礼言っときます。口じゃなくて拳でね"], .signalThreatViolence),
        (["ああいう先生は、いつか誰かに痛い目に遭わされるんじゃないでしょうか。"], .signalThreatViolence),
        (["半殺しにされてえのか"], .signalThreatViolence),
        (["おたくの店員もボコボコにされたらええわ"], .signalThreatViolence),
        (["言葉でなく拳で返す"], .signalThreatViolence),
        (["テレビ局のディレクターとは取材を受けた縁がある。返金しないならネタとして持ち込むぞ"], .signalThreatExposure),
        (["ボコボコにされたくなかったら金払え"], .signalThreatViolence),
        (["週刊誌の記者が取材に来てたから、金を払わないなら全部話すぞ"], .signalThreatExposure),
        (["Bet you're fun in bed, love."], .signalAbusiveLanguage),
        (["What colour bra have you got on?"], .signalAbusiveLanguage),
        (["Listen to me. I've done time, man. So you think real hard before you tell me no again."], .signalThreatViolence),
        (["People have got hurt for less than nine hundred quid, love. I'm not saying it'll be me."], .signalThreatViolence),
        (["Do you know what happens to people who mess my family about? Ask around Bradford."], .signalThreatViolence),
        (["Your agent in the red scarf is about to have the worst day of her life if I'm not on this plane."], .signalThreatViolence),
        (["You know what I keep in my glove box? I'd comp the table, if I was you."], .signalThreatViolence),
        (["You may want to tell Jordan to watch himself in the car park after his evening classes."], .signalThreatViolence),
        (["Do you feel safe walking to your car at night? Think about it on your way out tonight."], .signalThreatViolence),
        (["See if this isnae sorted by Friday, ah'll be doon that branch, and it'll no be tae talk."], .signalThreatViolence),
        (["I am a big man and I don't always know my own strength when I'm upset."], .signalThreatViolence),
        (["i know what time the late shift finishes. just so we're clear"], .signalThreatViolence),
        (["整備した工場長の車、青いアルファードやったな。あれのブレーキにも同じように細工したろか"], .signalThreatViolence),
        (["人ひとり、鴨川に浮いてはっても、誰も不思議に思わへん世の中どすやろ"], .signalThreatViolence),
        (["わしも昔はやんちゃしとってのう。今でも声かけりゃ、すぐ飛んで来る若いもんが何人かおるんよ", "この店、ガラス張りで中がよう見えるのう。夜は誰もおらんのじゃろ"], .signalThreatViolence),
        (["知り合いにね、人探しが得意なのがいるんですよ。その人たちは私みたいに優しくないけど"], .signalThreatViolence),
        (["あの先生、毎晩ジョギングしよるじゃろ。堤防の道を。あそこは夜、誰も通らんけぇのう"], .signalThreatViolence),
        (
            [
                "Thirteen hundred pounds and she's limping. Now, I've got a friend who writes for the Echo. I told her about you. About the lot. She said she'd run it if I gave her the nod.",
                "I haven't given her the nod. Yet. You cancel that invoice and we forget about the recheck and the Echo. How's that sound?",
            ], .signalThreatExposure
        ),
        (["If my prescriptions aren't delivered free for the rest of the year, that envelope goes in the mailbox."], .signalThreatExposure),
        (
            [
                "I know exactly whose inbox to put it in.",
                "Pay the hundred and five plus a thousand by Friday, and nobody needs to write anything.",
            ], .signalThreatExposure
        ),
        (["She'd love a story like this. You make it right, I got no reason to call her."], .signalThreatExposure),
        (["I will email your board of directors and cc my contacts at TechCrunch unless you refund us."], .signalThreatExposure),
        (["全額返して、この店の店長が頭下げるまで、わしゃここに座って動かんけぇね。"], .signalCoercion),
        (["警察呼ぶなら呼びんさい、ここから一歩も出んけぇ。"], .signalCoercion),
        (["店長さんがお戻りになるまで、帰りませんので。閉店時間を過ぎても構いませんよ、私は。"], .signalCoercion),
        (["納得する返事がくるまで、毎日、朝昼晩、ここの番号にかけ続けるかいね。"], .signalCoercion),
        (["今日中に戻してくれないなら、もう死ぬしかない。あんたのせいで人が死ぬことになるけど、それでいいの?"], .signalCoercion),
        (["I've got a bottle of my husband's pills in the cabinet. You want that on you?"], .signalCoercion),
        (["Are you even from here? Get me someone born in this country."], .signalAbusiveLanguage),
        (["Honey, I'm not discussing brakes with a woman. Put one of the mechanics on."], .signalAbusiveLanguage),
        (["なんだその訛り。標準語しゃべれるやつ出せ"], .signalAbusiveLanguage),
        (["番号は言いますけど、日本の方に代わっていただけます?"], .signalAbusiveLanguage),
        (["ぶっ飛ばすぞ。文句はないな"], .signalThreatViolence),
        (["i will paste this every 60 seconds until a person with authority types refunded"], .signalCoercion),
        (
            ["I'm sitting on this recliner, and I'm not getting up until somebody with a checkbook walks through that door."],
            .signalCoercion
        ),
        (["Otherwise I'm just not going to take them anymore. If I have a stroke, that's on you."], .signalCoercion),
        (["It'll cost you thousands to defend and you'll lose."], .signalCoercion),
        (["I'll tie you up for a year in small claims."], .signalCoercion),
        (["I'm retired, love, I've got nothing but time. You'll pay me to stop."], .signalCoercion),
        (["Pay the eight grand and it all goes away."], .signalCoercion),
        (["取り消してくれないなら、私もう死にます。あなたのせいで死ぬんですよ。"], .signalCoercion),
        (["上の人と相談して、どうしたら俺が納得するか考えてきて。答えは俺からは言わない。"], .signalUnclearPurpose),
        (["それとは別にや、おたくの会社のけじめのつけ方を見せてもらいたいんや。"], .signalUnclearPurpose),
        (["Don't be a smartass with me and tell me it's under review."], .signalAbusiveLanguage),
        (["I told your manager he was going to get hurt if that van came back, and I meant every word."], .signalThreatViolence),
        (["If you hang up on me again you'll get slammed into the wall, I promise you."], .signalThreatViolence),
        (["That manager of yours will get smashed into the counter if she refuses me again."], .signalThreatViolence),
        (["包丁持って店に行ったるから、物騒なことになるで。"], .signalThreatViolence),
        (["ナイフで刺したるわ、物騒やろ。"], .signalThreatViolence),
        (["People have been hurt for less."], .signalThreatViolence),
        (["返金してくれないなら、もう死ぬしかないですね。"], .signalCoercion),
        (["日本語しゃべれるやつ出せ。"], .signalAbusiveLanguage),
        (["顔は覚えたからな。逃げられると思うなよ"], .signalThreatViolence),
        (["Are you thick or what? I said it won't charge."], .signalAbusiveLanguage),
        (["Ye're that thick, pal, put someone else on."], .signalAbusiveLanguage),
    ])
    func composedSignals(lines: [String], expected: SignalKind) {
        let result = Self.engine.screen(record(lines))
        #expect(result.signals.contains { $0.kind == expected }, "\(lines): \(result.signals.map(\.kind))")
    }

    /// The patterns, not the model alone, compose these: the body part before its owner (break the
    /// head of that manager), Scots spellings folded to the words they stand for (ah'll, ye), and a
    /// threat after a denial of joking (a negation reaches no further than the next I).
    @Test(arguments: [
        "If the money is not in by tomorrow I will break the head of that manager.",
        "Sort it the day or ah'll batter ye.",
        "I'm not joking, I'll stab you if that van comes down my road again.",
        "I'm tellin' ye now, ah'll knock the heid aff him, so I will.",
        "Refund me or I'll hoy a brick through yer windae.",
        "I'm gonna beat the hell out of that driver.",
        "She was so rude I will kill her.",
        "He was rude, watch me kill him.",
        "They were useless so gonna batter them.",
    ])
    func patternsComposeThreatsInOtherWordOrdersAndDialects(line: String) {
        let violence = Self.engine.screen(record([line])).signals.first { $0.kind == .signalThreatViolence }
        #expect(violence?.evidence.contains { !ThreatModel.reads($0) } == true, "\(line): \(String(describing: violence))")
    }

    @Test(arguments: [
        "配達員に「次は殺すぞ」って言われたんです",
        "ゴキブリを殺したいので殺虫剤を買いました",
        "This delay is killing me.",
        "My coworker said he'd kill me if I ate his lunch again, we laughed.",
        "I'll shoot you an email with the order number.",
        "I thought he was gonna kill them all that day, the rats are still in the garage.",
        "We beat them in the final and the trophy arrived broken.",
        "The heat beat the hell out of that.",
        "I knocked the head off a nail and the hammer you sold me snapped.",
        "I used to beat him at chess every week.",
        "The noise from the boiler is doing ma heid in.",
        "Someone lobbed a brick through my window last night and your glazier never came.",
        "I'm going to beat them at darts on Friday, so the board needs to arrive.",
        "I had to knock the head off a nail to get the panel out.",
        "We're going to rip the legs off them, the prawns were still frozen.",
        "The hail beat the hell out of that driver's van before it got to me.",
        "I'm not saying you're thick, I'm saying the system is broken.",
        "Are you thick crust or thin crust on the deal? The menu doesn't say.",
        "このポンコツ洗濯機、また止まった",
        "I felt like an idiot for forgetting my password.",
        "弁護士に相談しようと思っています。",
        "I'll leave an honest review about the delivery.",
        "I'm sending the photos to you by email now.",
        "レビューサイトには正直に書かせてもらいますね。",
        "I break down whole hogs with those knives at work.",
        "The obituary for my mother you printed has the wrong date.",
        "口コミに正直に書いてもいいですか?",
        "Twelve grown men standing in a parking lot, holding their disappointment.",
        "I shoot weddings for a living and the camera froze mid-ceremony.",
        "チェーンソーを持った殺人鬼が出てくる場面で画面が固まります。",
        "I bombed the exam because the sessions were cancelled.",
        "I don't know which exit to use at the station.",
        "Your security team can't help me.",
        "My review never gets posted.",
        "Please cc your CEO on the reply.",
        "I thought it would be a trending color.",
        "返品の件は家族も承知してるから大丈夫です。",
        "若い店員さんで、手が早いから袋詰めが雑でした。",
        "ライブ配信中に落ちたわ。",
        "子どもの顔を撮ってやろうと思ったら、カメラが起動しません。",
        "毎朝店の前に立って開店を待っています。",
        "修理できないなら、もうどうなってもいいので処分してください。",
        "I wait every morning until the bus comes.",
        "I locked myself out trying to get to the car.",
        "The video didn't play well on YouTube.",
        "If it's not back by the weekend, my kids are going to kill each other.",
        "The driver was the guy who pulled the little boy out of the river last summer.",
        "あら、去年契約してくれた人よね? 顔覚えてるわ、丁寧に説明してくれたもの。",
        "家で調べたら、やっぱり初期不良でした。",
        "直るまで毎日電話しますね。",
        "I'll keep calling every day until it's fixed.",
        "I'm just going to sit in your lobby until the branch opens at nine.",
        "治るまで毎日病院に通っています。",
        "I'll be home every day until the parcel arrives, so any time is fine.",
        "I placed my mother's obituary with you on Thursday.",
        "結婚記念日のケーキ、箱開けたらクリームがぐちゃぐちゃやねん。",
        "この包丁、持って売り場まで行ったほうがいいですか？",
        "包丁持ってうろうろするのも物騒だし（笑）",
        "30分おきに電話をかけてますが、つながりません。",
        "レッカーが来るまで車がここから動かないんです。",
        "届くまで毎日電話かけなきゃいけないなんて、疲れるわ。",
        "弁護士に相談したら、訴訟はやめたほうがいいと言われました。",
        "修理してもらうまで電源は切らないほうがいいですか。",
        "The whole bottle leaked in the box, so if you could send another one that would be great.",
        "Every Tuesday the bins are left standing outside my gate.",
        "We're not leaving the house tomorrow, so any slot is fine.",
        "The clinic promised to fix her face after the botched filler.",
        "I can't kneel, I can't do the stairs without holding on.",
        "I need the person who can override the rule.",
        "I just want him to know you can't talk to people like that.",
        "Then it wants taking off the shelves, that gun. Somebody'll set their house on fire.",
        "I'm not budging on this, three hundred quid for a chip that was already there.",
        "I'm not leaving this desk because I genuinely don't know where else to go.",
        "I left my knife roll in the back seat last night.",
        "でら腹立つがや、届いた荷物ぐちゃぐちゃだがね。",
        "お、そうなの?ならいいや。次はちゃんと死ぬやつ頼むわ。",
        "次のが来るまでここに座ってますね。",
        "下手くそな字ですみません。",
        "説明書の日本語が読めないんです。",
        "ずっと電話で待たされて、結局5時まで繋がりませんでした。",
        "毎週土曜日は夕方までやるって書いてあったのに閉まってました。",
        "ネットが使えないと、毎日カフェに行かなきゃいけません。",
        "書類を書いてもらうまで、ずっと窓口の前にいましたよ。",
        "前の客がレジの前から動かないから、30分も待たされました。",
        "弁護士に相談したら、訴訟は起こさないほうがいいと言われました。",
        "訴訟を起こすつもりはありません。ただ、同じ事故を避けたいなら、案内表示を直してください。",
        "買ったカブトムシ、寝てるのか死んだか、どっちか分からないくらい動かないんです。",
        "A loose seatbelt like that could throw someone through the glass.",
        "このクーポン、若い子は使えないんですか?",
        "家族4人でポンコツのレンタカーに乗せられました。",
        "Are you sure this is not the brightest setting? The screen's still dim.",
        "The box says a toddler could do this job in ten minutes, it took me four hours.",
        "I had to go back to India and came home to a cancelled account.",
        "白いシャツなのに、下着つけても透けるんですけど。",
        "I am not hanging up until a supervisor gives me that answer.",
        "今日は答えを聞くまで切りませんから。",
        "The poison your fella put down hasn't killed a single rat.",
        "And I'm going to murder my husband, he's thrown out the receipt with the box.",
        "You might want to vary the route, the ring road is gridlocked every morning.",
        "My friends aren't as patient as me, they returned theirs already.",
        "I saw your van outside my house but nobody knocked.",
        "I'd hate for anything to happen to my kids with this faulty car seat.",
        "Do you know what happened to the order that I placed last week?",
        "I hope my daughter stays careful on the road, the tyres you fitted keep losing pressure.",
        "話をつけに行ったら、店長さんが不在でした。",
        "My son was in bed when the alarm went off at three in the morning.",
        "The underwire in this bra snapped after one wash.",
        "スパーでボコボコにされに通ってるのに、財布までボコボコとかやめてほしいっす笑",
        "昨日テレビ局の取材を受けました。",
        "My buddy at the station said the part was recalled, can you check?",
        "I know how to use a nail gun, the one you sold me jams every time.",
        "The replacement will be sent Monday unless the warehouse is closed, the agent said.",
        "安全装置がばかになってたんだよ。同じのはもう怖くて使えねえ。",
        "地元紙で記者をしている友人にこの話をしたところ、記事にしてはどうかと言われました。でも、そういうことをしたいわけではありません。",
        "I'll keep it to myself next time, I just wanted you to know the driver was lovely.",
        "I want to learn what happens when the warranty expires.",
        "I don't know how to use my glue gun, the instructions are missing.",
        "The subscription terms with the publisher said twelve issues, I only got ten.",
        "テレビ局の近くに住んでいる友人がいて、その人の家にも同じ不良品が届いたそうです。",
        "Just send the replacement and I'll leave you alone.",
        "息子が先輩にボコボコにされた",
        "昨日ボコボコにされて帰ってきた",
        "ボコボコにされた方の生徒の親です",
        "anyone can tell I'm wearing a bra under it",
        "I ordered the same colour bra as last time",
        "I'd like the agent who dismissed my complaint to call me back.",
        "ネジ穴がばかになってしまいました",
        "悔しくて言葉も出ないくらいで、拳を握りしめていました。",
        "I didn't feel safe walking to my car because the car park lights were out.",
        "The letter needs to go out today, it's my tax return.",
        "Mind yourself in the car park, it's icy out there.",
        "夜は誰も通らない道なので、街灯をつけてほしいんです。",
        "My daughter works at the Echo, she said to ring the customer line first.",
        "包丁なんて誰でも買えるものなのに、こんなに刃こぼれするなんて。",
        "美容師さんが髪を切るついでに首のマッサージもしてくれました。",
        "同じ名字の子がクラスに二人いて、通知表が入れ替わっていました。",
        "Nobody needs to hear about my medical history, please keep it private.",
        "My son's school friend's father gets a visit from the nurse every day.",
        "I'll sit here quietly until someone can see my mother.",
        "足を骨折してから一歩も外に出ていません。",
        "I'm staying with my sister until the boiler is fixed.",
        "このままじゃ死ぬしかないって思うくらい、毎日つらいんです。",
        "でも、ぶっ飛ばすぞはないでしょう。隣の奥さんも聞いてたそうです。",
        "He didn't start it. He got shoved into a table.",
        "血液サラサラの薬、飲んでええんか止めるんか、家族の誰もわからんのんよ。",
        "レジしてくれたの、あの茶髪のお兄ちゃんな。顔は覚えてるけど、別にあの子責めたいわけやないで。",
        "Those were the words, stab him with a compass. Ethan came home white as a sheet.",
        "撮ってあるよー。うちのおじいがね、昔、警察官だったわけさ。おじいがいつも、何かあったらすぐ写真とって記録しときなさいよーって言うから。で、交換してもらえるかねー?",
        "Pay to make this go away? No, I just want my refund.",
        "I'll keep calling until the power is back on, my mother is on oxygen.",
        "The heater broke, I thought my dad would have a stroke, the cold is hard on him.",
        "お前のせいで死ぬかと思ったわ",
        "全部これだったら死にますよ、冗談じゃなく。",
        "夫が夜9時まで帰らないので、再配達はその後にしてもらえますか。",
        "この寒さじゃ一歩も外に出んけぇ、配達は玄関まで持ってきてほしいんよ。",
        "何度も電話をかけ続けましたが、ずっと話し中でつながりませんでした。",
        "母は毎日病院に通い続けているので、日中は家にいません。",
        "薬が届かなかったら、父はもう死ぬしかないんです。どうにか今日中にお願いします。",
        "We're staying here until Sunday and the air conditioning in our room still doesn't work.",
        "My mum is staying at the branch lobby until the taxi arrives, could you check on her, she's 88.",
        "I called on Monday and they said Tuesday. Nobody came on Tuesday, and the day after that nobody came either.",
        "We live just past the old bridge. If nobody's in, the driver should leave a note.",
        "間違えて海外の窓口につながったみたいで、日本語を話せる人に代わってもらえますか。",
        "製造元が日本の方に変わったと聞いたんですが",
        "My husband is the one born in this country, so the account should be in his name.",
        "アレルギー表示の間違いのせいで人が死ぬこともあるんですよ。",
        "You sent my dad the wrong tablets. I have it on your packing slip.",
        "What happened to people who already paid? Do we get our money back?",
        "Your physio doesn't know his own strength. My mother is black and blue.",
        "I'm upset. My letter needs to get out to the bank today and your post office lost it.",
        "包丁持ってうろうろするのもね、物騒だし(笑)",
        "カードより現金で払った方が安いんですか?",
        "I can't get up until the carer arrives, I've had a fall.",
        "We're sitting here in the lobby until our room is ready, it's been three hours.",
        "The nurse is going to check on her every hour until the oxygen arrives.",
        "Thanks, see you every Tuesday until the course finishes.",
        "The battery died and it's on your website that it lasts ten hours.",
        "あなたのせいで父が死んだんですよ。どうしてこんなことになったのか教えてください。",
        "おたくのせいで犬が死ぬところだったんです。",
        "電気が来ないと、私、死にますよ。酸素の機械なんです。",
        "ここ一週間、一歩も外に出とらんのよ、足が悪うて。",
        "何度も電話をかけ続けたから、電話代がかさんでしまいました。",
        "店長さんが戻るまで帰らんでええよって、店員さんが言うてくれたんよ。",
        "My dad got the wrong pills. I want this on your record.",
        "I'll call back tomorrow, and the day after that if the part still hasn't come.",
        "Can I just pay the late fee and have it all go away? I'm 82 and this stresses me.",
        "I don't want to tie this up for months in complaints, I just want it sorted.",
        "If you can't fix the router I'll end it, the contract I mean.",
        "Do you know what time the engineer finishes his shift? I need to be home.",
        "I've got nothing to lose by asking, I think.",
        "受付のときにもらったナンバー、ちゃんと覚えてますよ。",
        "While you're at it, could you also check my mum's order?",
        "They gave us a free upgrade but the room had no heating.",
        "ついでにポイントカードの割引も使えるか教えてください。",
        "Are you even from this company or a contractor?",
    ])
    func hardNegativesRaiseNoHostileSignal(line: String) {
        let hostile: Set<SignalKind> = [.signalThreatViolence, .signalThreatExposure, .signalCoercion, .signalAbusiveLanguage]
        let found = Set(Self.engine.screen(record([line])).signals.map(\.kind))
        #expect(found.isDisjoint(with: hostile), "\(line): \(found)")
    }

    /// Beside an exposure threat the patterns found, the model adds violence it reads on its own,
    /// citing the sentence that weighs most toward violence.
    @Test func theModelAddsTheSecondKindBesideAPatternsThreat() throws {
        let result = Self.engine.screen(
            record([
                "Refund me by Friday or the video goes on TikTok with your name on it. Maybe I'll come round with a few lads and we'll see how chatty you are then."
            ]))
        let exposure = try #require(result.signals.first { $0.kind == .signalThreatExposure })
        #expect(exposure.evidence.contains { !ThreatModel.reads($0) })
        let violence = try #require(result.signals.first { $0.kind == .signalThreatViolence })
        #expect(violence.severity == .medium)
        #expect(violence.evidence.map(\.rule).allSatisfy { $0.hasPrefix(ThreatModel.evidenceRule + " p=") })
        #expect(violence.evidence.first?.excerpt.contains("a few lads") == true, "\(violence.evidence)")
    }

    /// Innocent lines the threat model alone reads as menace (a known limit of a bag of words): it
    /// sends them to a supervisor at SEVERITY_MEDIUM, no pattern fires on them, and they are never
    /// judged unjust.
    @Test(arguments: [
        "鹿撃ちに行く日に銃を裸で持ってくわけにいかないっしょ。",
        "I'm worried about your driver, anything could happen to him walking back to the van in the dark.",
        "If anything funny happens with the new boiler I'll call you.",
    ])
    func innocentLinesTheModelMisreadsGoOnlyToASupervisor(line: String) {
        let result = Self.engine.screen(record([line]))
        #expect(result.verdict != .unjustDemand)
        for signal in result.signals {
            #expect(signal.severity == .medium, "\(line): \(signal)")
            #expect(signal.evidence.allSatisfy { ThreatModel.reads($0) }, "\(line): \(signal)")
        }
    }

    /// Someone else's threat as a caller tells it, without quotation marks (a stranger or a member
    /// of staff, to the end of the sentence; what one wrote to the caller, after a colon; a Japanese
    /// quotative verb of being told, or a sentence ending on 、と。, back to the sentence's start):
    /// the patterns leave it to the caller who was threatened, so it is never
    /// judged unjust (the model may still send it to a supervisor).
    @Test(arguments: [
        "I asked him to stop speeding. He pulls over and says, get out or I'll knock your teeth in.",
        "The driver said, get on that ramp again and I'll run you over, mate.",
        "I go to show him the placard and he goes, you want me to knock you on your ass?",
        "Another player has been sending him messages saying he knows which school he goes to.",
        "次文句言うたらしばくぞって言うてん。子どもも横におったんやで。",
        "道が違う言うたら、運転手が急に車止めて、降りろ、ぶっ飛ばすぞ言うてきたんよ。",
        "配達の人に、今度文句言ったら家に火つけるぞって言われたんです。",
        "He said, get out now or I'll kill you.",
        "ぶん殴るからなって言われた。",
        "Someone just screamed I'll kill you at me at the registration desk.",
        "百円くらいでうるせえな、帰り道気をつけろよ、家まで付いて行ってやろうか、と言われました。",
        "The installer lost his temper, kicked my door and said next time he'd smash my face in.",
        "Your collector texted me this: pay up by Friday or we'll break your legs.",
        "The driver messaged me: i know where you live now.",
        "Got a text from your technician last night: you'll regret complaining, I know your street.",
        "業者からLINEで、次文句言ったら家燃やすぞ、と。",
        "あの店員、お前の顔覚えたからな、だって。信じられない。",
        "We asked the man behind us to keep it down and he says you'll be sorry after the film.",
        "出品者に返品をお願いしたら、お前の住所をXに晒すぞって返ってきました。",
        "配送業者から、次クレーム入れたら家燃やすぞってメールが来たんです。",
    ])
    func aReportedThreatIsTheVictimsAccount(line: String) {
        let result = Self.engine.screen(record([line]))
        #expect(result.verdict != .unjustDemand, "\(line): \(result.signals)")
        for signal in result.signals {
            #expect(signal.evidence.allSatisfy { ThreatModel.reads($0) }, "\(line): \(signal)")
        }
    }

    /// The caller's own threat next to a report stays the caller's: in the next sentence, after the
    /// caller takes over (…, so I'll…), before a Japanese report (殺すぞお前ら、…って言われた), passed
    /// on from the caller's own people (my guys said…), said in the present (〜って言ってんだよ), or in
    /// a clause that only imagines someone speaking (the next person who tells me…).
    @Test(arguments: [
        "He said, that's our policy. I'll burn your store down.",
        "The manager told me no refund, so I'll burn your store down.",
        "They refused again so I told them I'll burn the shop down.",
        "お前の店燃やすぞ、って言ってんだよ！",
        "Your email said delivery on Tuesday, it's Friday, so I'll burn the place down.",
        "マジで殺すぞお前ら、電話の兄ちゃんにも折り返すって言われたのに。",
        "My guys said they know where your CEO lives and they'll pay him a visit with baseball bats.",
        "お前の店燃やすぞって言ってんだよ！",
        "Next person who tells me to hold, I'm gonna k1ll them, I swear.",
        "店員に「殺すぞ」って言われた。ふざけるな、殺すぞ",
        "I rang him twice about the refund and said, if it isn't here Monday I'll smash your windows in.",
        "お前の店燃やすぞって書き込んでやるからな。",
        "The manager hung up on me, and I rang back and said I'll burn your shop down tonight.",
        "Me and the lads went to your branch and one says we'll torch the place if they don't pay up.",
        "I texted your manager: refund me or I'll smash your shop.",
        "Got an email from your CEO: no refund. I'll burn your store down.",
        "返金しないなら店を燃やすぞ、と伝えておけ。",
        "店のアンケート用紙に、次来たら店長刺すって書いてきたわ。",
    ])
    func theCallersOwnThreatBesideAReportStays(line: String) {
        let violence = Self.engine.screen(record([line])).signals.first { $0.kind == .signalThreatViolence }
        #expect(
            violence?.evidence.contains { !ThreatModel.reads($0) } == true, "\(line): \(String(describing: violence))"
        )
    }

    /// A lawsuit's paperwork is coercion, and the caller's own self-harm forces a demand: neither
    /// is a threat of violence from the patterns.
    @Test(arguments: ["I will bury you in paperwork until you retire.", "If the refund isn't here by noon I'm going to kill myself."])
    func leverageThatIsNotViolence(line: String) {
        let found = signals(line)
        #expect(found.contains(.signalCoercion), "\(line): \(found)")
        let violence = Self.engine.screen(record([line])).signals.first { $0.kind == .signalThreatViolence }
        #expect(violence?.evidence.allSatisfy { $0.rule.hasPrefix("model.") } ?? true, "\(line): \(String(describing: violence))")
    }

    @Test func tokenPatternEvidencePointsAtTheCallersText() throws {
        let text = "いや、お前の顔、覚えたからな"
        let result = Self.engine.screen(record([text]))
        let evidence = try #require(
            result.signals.first { $0.kind == .signalThreatViolence }?.evidence.first { $0.rule.hasPrefix("threat.") })
        let scalars = Array(text.unicodeScalars)
        let cited = String(String.UnicodeScalarView(scalars[Int(evidence.start)..<Int(evidence.end)]))
        #expect(cited == evidence.excerpt)
        #expect(cited.hasPrefix("顔"), "\(cited)")
    }

    @Test func hostileTextIsScreenedWithoutCrashing() {
        let lines = [
            String(repeating: "お前の家を知ってるぞ。", count: 2_000),
            String(repeating: "k i l l ", count: 2_000),
            "\u{0}\u{1}\u{7F}\u{202E}殺す\u{200B}ぞ",
            "😡🔪💀 ころしてやる 👊",
            "ｺﾛｽﾞ゙゙ ﾞﾟ",
            String(repeating: "ー", count: 5_000),
            String(repeating: "いるから", count: 2_000),
            String(repeating: "I will wait outside the parking lot. ", count: 300),
            String(repeating: "配達員に「裏口で待ってるからな」と言われた。", count: 300),
        ]
        let result = Self.engine.screen(record(lines))
        #expect(result.signals.contains { $0.kind == .signalThreatViolence })
        for signal in result.signals {
            for evidence in signal.evidence where evidence.end > 0 {
                let scalars = lines[Int(evidence.utteranceIndex)].unicodeScalars.count
                #expect(evidence.start <= evidence.end && Int(evidence.end) <= scalars, "\(evidence)")
            }
        }
    }
}

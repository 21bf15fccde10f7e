#!/usr/bin/env python3
"""Writes tests/data/unicode_stress.txt: a deterministic Unicode stress corpus (>= 2,000 lines) for
the tokenizer fixtures. Lines are separated by '\n' only; a line may contain CR, NEL, LS/PS,
controls and format characters. Run: python3 scripts/gen_unicode_stress.py > tests/data/unicode_stress.txt"""
import random
import sys

R = random.Random(20261128)

WORDS = ("the movie was great , not bad at all ! it 's a fine film . i did n't like the end "
         "what ? don't won't isn't café naïve résumé coöperate façade jalapeño über straße "
         "hello world unbelievable tokenization preprocessing").split()
ACCENTED = "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝŸāăąćčďđēėęěğīįıİķļľłńňőœŕřśşšţťūůűųźżžǅǆǈǲΆΈΉΊΌΎΏάέήίόύώ"
COMBINING = [chr(c) for c in range(0x300, 0x370)] + ["\u0483", "\u0591", "\u05b0", "\u064b", "\u0670",
             "\u0e31", "\u0e34", "\u0e48", "\u093c", "\u0941", "\u20d0", "\u20e3", "\ufe0f", "\ufe0e",
             "\u1ab0", "\u1dc0", "\u302a", "\u3099"]
EMOJI = ["😀", "😂", "👍", "👍🏽", "❤️", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "🧑🏿‍💻", "1️⃣", "#️⃣",
         "👩‍❤️‍💋‍👨", "🐈‍⬛", "☺", "✨", "🔥", "🙏🏻", "🤷‍♀️", "\U0001F9D1\u200D\U0001F384"]
CJK = "我喜欢这部电影非常好看不错中文字符测试的了是在人有他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创伟久错承印晚兰试股拿脑预谁益阳若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿敢守酒岛托央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋画班智亦耳恩短掌恐遗固席松秘谢鲁遇康虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补谓督毒油疗旅泽材灭逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴园谋宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸扩盖弄雄稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵"
CJK_EXT = ["\u3400", "\u4db5", "\U00020000", "\U0002a6d6", "\U0002a700", "\U0002b740", "\U0002b820",
           "\U0002ceaf", "\uf900", "\ufa6d", "\U0002f800", "\u3005", "\u3007", "\u2e80", "\u31c0"]
KANA = "あいうえおかきくけこがぎぐげごさしすせそアイウエオカキクケコガギグゲゴャュョッー々〆ｱｲｳｴｵﾞﾟ"
HANGUL = "한국어안녕하세요감사합니다서울대한민국ㄱㄴㄷㄹㅏㅑㅓㅕ"
THAI = "ภาษาไทยสวัสดีครับขอบคุณมากกรุงเทพมหานคร"
ARABIC = "العربية مرحبا بالعالم شكرا جزيلا ١٢٣٤٥٦٧٨٩٠ ؟ ، ؛ «نص» ٪"
HEBREW = "עברית שלום עולם תודה רבה ״ציטוט״ ׳"
OTHER_SCRIPTS = ["Ελληνικά καλημέρα ΣΟΦΙΑ σοφία ς", "Русский язык ПРИВЕТ мир Ёлка", "हिन्दी नमस्ते दुनिया",
                 "বাংলা ভাষা", "ქართული ენა", "Հայերեն", "ትግርኛ", "ᏣᎳᎩ", "ᚠᚢᚦᚨᚱᚲ", "𐌰𐌱𐌲", "𝐀𝐁𝐂 𝕒𝕓𝕔 𝔄𝔅",
                 "ﬁ ﬂ ﬀ ﬃ Ǆ ǅ ǆ ß ẞ ŉ ǰ ΐ", "Ⅻ ⅻ ① ⑩ ⒜ ㈱ ㎏ ℃ ℉ № ™ ℡", "ＡＢＣ ａｂｃ １２３ ！？（）"]
SPACES = [" ", "\t", "\u00a0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006",
          "\u2007", "\u2008", "\u2009", "\u200a", "\u202f", "\u205f", "\u3000", "\u2028", "\u2029", "\r",
          "\x0b", "\x0c", "\x85", "\u180e"]
CONTROLS = ["\x00", "\x01", "\x07", "\x08", "\x1b", "\x1f", "\x7f", "\x80", "\x9f", "\u200b", "\u200c",
            "\u200d", "\u200e", "\u200f", "\u2060", "\u2061", "\u2062", "\u2066", "\u2069", "\ufeff",
            "\u00ad", "\u061c", "\ufff9", "\ufffb", "\ufffd", "\ufffc", "\ue000", "\uf8ff", "\U000f0000",
            "\U0010fffd", "\u0378", "\u0558", "\U000e0001", "\U000e0041", "\u034f", "\u17b4"]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["¡", "¿", "«", "»", "‘", "’", "“", "”", "„", "…",
          "—", "–", "‐", "·", "•", "§", "¶", "†", "‡", "‰", "′", "″", "※", "、", "。", "「", "」", "『",
          "』", "【", "】", "〜", "・", "﹏", "＂", "＃", "﹐", "¢", "£", "¥", "€", "₹", "©", "®", "°",
          "±", "×", "÷", "^", "¨", "´", "¸", "˜", "˝", "⁄", "√", "∞", "≠", "≤", "→", "⇒", "♥", "★",
          "§", "‼", "⁇", "⸘", "〽", "־", "׃", "؟", "٪", "۔", "।", "॥", "฿", "๏", "၊", "።", "᠂"]
SPECIAL = ["[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "[mask]", "[Mask]", "[ MASK ]", "x[SEP]y",
           "[[MASK]]", "[MASK][MASK]", "##ing", "##", "[CLS", "SEP]", "[unused1]", "[unused99]"]
URLS = ["https://example.com/path?q=1&x=%20y#frag", "http://www.google.com", "user@example.org",
        "ftp://files.example.net/a_b-c.tar.gz", "C:\\Windows\\System32", "/usr/local/bin/lm --help",
        "printf(\"%d\\n\", x->y[i]);", "for (int i=0;i<n;++i) { a[i] += b[i]; }", "def f(x): return x**2",
        "<div class=\"a\">text</div>", "SELECT * FROM t WHERE id = 42;", "{\"key\": [1, 2.5e-3, null]}",
        "#hashtag @mention $100 50% 3.14159 1,000,000 1e10 0xFF -42 +7", "v1.2.3-rc.1+build.5",
        "2026-11-28T22:13:47Z", "555-123-4567", "rock'n'roll", "co-operate", "e-mail", "U.S.A.", "Ph.D."]
NUMBERS = ["0", "7", "42", "1234567890", "3.14", "1,024", "١٢٣", "४२", "๓๔", "½", "¾", "²", "³", "⁴",
           "₂", "٫", "0.000001", "99999999999999999999"]


def word():
    k = R.random()
    if k < 0.35:
        return R.choice(WORDS)
    if k < 0.45:
        return "".join(R.choice(ACCENTED + "abcdefghijklmnopqrstuvwxyz") for _ in range(R.randint(1, 9)))
    if k < 0.5:
        w = R.choice(WORDS)
        i = R.randint(0, len(w))
        return w[:i] + R.choice(COMBINING) + w[i:]
    if k < 0.55:
        return R.choice(EMOJI)
    if k < 0.62:
        return "".join(R.choice(CJK) for _ in range(R.randint(1, 6)))
    if k < 0.64:
        return R.choice(CJK_EXT) + R.choice(KANA)
    if k < 0.67:
        return "".join(R.choice(KANA) for _ in range(R.randint(1, 5)))
    if k < 0.69:
        return "".join(R.choice(HANGUL) for _ in range(R.randint(1, 5)))
    if k < 0.71:
        return THAI[R.randint(0, 20):][:R.randint(2, 12)]
    if k < 0.73:
        return R.choice(ARABIC.split())
    if k < 0.75:
        return R.choice(HEBREW.split())
    if k < 0.78:
        return R.choice(R.choice(OTHER_SCRIPTS).split())
    if k < 0.82:
        return R.choice(PUNCT)
    if k < 0.85:
        return R.choice(SPECIAL)
    if k < 0.88:
        return R.choice(URLS)
    if k < 0.91:
        return R.choice(NUMBERS)
    if k < 0.95:
        w = R.choice(WORDS)
        i = R.randint(0, len(w))
        return w[:i] + R.choice(CONTROLS) + w[i:]
    return R.choice(WORDS).upper()


def sep():
    k = R.random()
    if k < 0.8:
        return " "
    if k < 0.9:
        return R.choice(SPACES)
    if k < 0.95:
        return ""
    return R.choice(CONTROLS)


def line():
    n = R.randint(1, 25)
    s = ""
    for _ in range(n):
        s += word() + sep()
    return s


def main():
    out = []
    # Hand-written cases first: each pool element alone and inside words.
    for pool in (EMOJI, SPECIAL, URLS, NUMBERS, OTHER_SCRIPTS, CJK_EXT):
        out.extend(pool)
    out.extend(PUNCT)
    for c in SPACES + CONTROLS:
        out.append("a" + c + "b")
        out.append(c)
        out.append(c + "word" + c)
    for c in COMBINING:
        out.append("e" + c + " " + c + "x " + c)
    out.append(ACCENTED)
    out.append(ACCENTED.upper())
    out.append(ARABIC)
    out.append(HEBREW)
    out.append(THAI)
    out.append(HANGUL)
    out.append(KANA)
    out.append(CJK[:200])
    out.append("")
    out.append(" ")
    out.append("a" * 99)
    out.append("a" * 100)
    out.append("a" * 101)
    out.append("é" * 100)
    out.append("é" * 101)
    out.append("supercalifragilisticexpialidocious " * 3)
    out.append("x" * 300 + " ok")
    out.append("İstanbul İİ ıi I İ̇ Σσς ΣΑΣ ǅ")
    out.append("ﬁnance ﬂow")
    out.append("\u1e9e\u00df")
    out.append("\u0130\u0307x")
    out.append("e\u0301\u0302\u0303 a\u0323\u0302")
    out.append("\u1100\u1161\u11a8 \u1103\u1167")
    out.append("Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354L\u0368\u0367\u0369\u0358\u0320G\u0311\u0357\u030e\u0305\u035b\u0341\u0334\u033b\u0348\u034d\u0354\u0339O\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333")
    while len(out) < 2300:
        out.append(line())
    for s in out:
        assert "\n" not in s
    sys.stdout.write("\n".join(out) + "\n")


main()
